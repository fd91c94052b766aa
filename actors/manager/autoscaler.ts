/**
 * The autoscaler (`/user/manager/autoscaler`): one GroupAutoscalerActor per
 * scaling group whose settings enable it (autoscaler_config.ts), under a
 * one_for_one parent. On every tick a group's actor reads the agents (the
 * registry), the live sessions (the store) and the pending queue (the
 * scheduler), lets policies/scale_in.ts decide, and acts through an
 * {@link AgentDriver}:
 *
 * - scale out: start agents for pending demand, the free-capacity target
 *   and the minimum, up to the maximum;
 * - scale in (only with nothing pending and nothing booting): an agent that
 *   runs sessions is drained; it is stopped once empty, or after the
 *   group's `drainTimeoutSeconds` if none of its sessions is protected. An
 *   agent hosting a protected session (its `config.scale_in_protected`, or
 *   the group's rules: batch sessions, sessions older than N minutes; see
 *   policies/protection.ts) is drained but never stopped by scale-in;
 * - an agent that stops answering (registry: not ALIVE) is stopped by force,
 *   and so is one an admin stops (`force-stop`), protected or not.
 *
 * Only agents the driver started are acted on; others count as capacity
 * with node-level protection.
 *
 * @module
 */

import {
  Actor,
  type ActorRef,
  type SupervisorStrategy,
} from "../runtime/types.ts";
import {
  decideScaleIn,
  type ScalableAgent,
  type ScaleInDecision,
} from "../../policies/scale_in.ts";
import {
  decideScaleOut,
  type ScaleOutDecision,
} from "../../policies/scale_out.ts";
import { hostsProtectedSession } from "../../policies/protection.ts";
import type { AgentDriver } from "./autoscaler_driver.ts";
import { NotManagedError } from "./autoscaler_driver.ts";
import { AutoscalerConfig } from "./autoscaler_config.ts";
import type { AgentsMsg } from "./agents.ts";
import type { PendingView, SchedulerMsg } from "./scheduler.ts";

/** A live session as the autoscaler needs it. */
export interface ScalingSession {
  agentId: string | null;
  scalingGroup: string;
  status: string;
  type: string;
  createdAt: number;
  protected: boolean;
  requestedSlots: Record<string, number>;
}

/** An agent as the registry lists it (agents.ts `view`). */
export interface RegistryAgentView {
  id: string;
  scalingGroup: string;
  status: string;
  schedulable: boolean;
  resourceSlots: Record<string, number>;
  numKernels: number;
  lastSeen: string;
}

/** What the autoscaler reads and acts through. */
export interface AutoscalerDeps {
  driver: AgentDriver;
  registry: ActorRef<AgentsMsg>;
  scheduler: ActorRef<SchedulerMsg>;
  liveSessions(): Promise<ScalingSession[]>;
  /** Settings of every group, read at (re)start. */
  loadConfigs(): Promise<Record<string, unknown>>;
  /** Decisions go here. @default console.error */
  log?: (line: string) => void;
}

export type AutoscalerMsg =
  | { type: "configure"; group: string; config: AutoscalerConfig }
  | { type: "force-stop"; agentId: string }
  | { type: "status"; group: string };

type GroupMsg =
  | { type: "configure"; config: AutoscalerConfig }
  | { type: "tick" }
  | { type: "force-stop"; agentId: string }
  | { type: "status" };

/** What a group's autoscaler reports (admin API). */
export interface AutoscalerStatus {
  group: string;
  config: AutoscalerConfig;
  managed: string[];
  starting: string[];
  stopping: string[];
  last?: {
    at: string;
    add: number;
    undrain: ScaleOutDecision["undrain"];
    drain: ScaleInDecision["drain"];
    stop: ScaleInDecision["stop"];
  };
}

/** Parent of the per-group autoscalers. */
export class AutoscalersActor extends Actor<AutoscalerMsg> {
  constructor(readonly deps: AutoscalerDeps) {
    super();
  }

  override supervisorStrategy(): SupervisorStrategy {
    return {
      kind: "one_for_one",
      maxRestarts: 10,
      withinMs: 60_000,
      decide: () => "restart",
    };
  }

  override async preStart(): Promise<void> {
    for (const [group, raw] of Object.entries(await this.deps.loadConfigs())) {
      const parsed = AutoscalerConfig.safeParse(raw ?? {});
      if (parsed.success && parsed.data.enabled) {
        this.#group(group, parsed.data);
      }
    }
  }

  async receive(msg: AutoscalerMsg): Promise<unknown> {
    switch (msg.type) {
      case "configure": {
        const child = this.ctx.child(childName(msg.group));
        if (child) child.tell({ type: "configure", config: msg.config });
        else if (msg.config.enabled) this.#group(msg.group, msg.config);
        return;
      }
      case "status": {
        const child = this.ctx.child(childName(msg.group));
        return child ? await child.ask({ type: "status" }) : undefined;
      }
      case "force-stop": {
        const a = await this.deps.registry.ask<RegistryAgentView | undefined>(
          { type: "get", id: msg.agentId },
        );
        const child = a && this.ctx.child(childName(a.scalingGroup));
        if (!child || !this.deps.driver.owns(msg.agentId)) {
          throw new NotManagedError(
            `agent ${msg.agentId} was not started by the autoscaler`,
          );
        }
        return await child.ask({ type: "force-stop", agentId: msg.agentId }, {
          timeoutMs: 30_000,
        });
      }
    }
  }

  #group(group: string, config: AutoscalerConfig): void {
    this.ctx.spawn(() => new GroupAutoscalerActor(group, config, this.deps), {
      name: childName(group),
    });
  }
}

const childName = (group: string) => `group-${group}`;

/** How long a started agent may take to join before it is no longer counted as booting. */
const BOOT_GRACE_MS = 120_000;

/** The autoscaler of one scaling group. */
export class GroupAutoscalerActor extends Actor<GroupMsg> {
  #timer?: ReturnType<typeof setInterval>;
  #starting = new Map<string, number>();
  #stopping = new Set<string>();
  /** When this actor first saw each agent draining (for the drain deadline). */
  #draining = new Map<string, number>();
  /** Agents this actor drained; any other draining agent is an operator's cordon. */
  #drainedByUs = new Set<string>();
  #last?: AutoscalerStatus["last"];

  constructor(
    readonly group: string,
    public config: AutoscalerConfig,
    readonly deps: AutoscalerDeps,
  ) {
    super();
  }

  override preStart(): void {
    this.#arm();
    this.ctx.self.tell({ type: "tick" });
  }

  override postStop(): void {
    clearInterval(this.#timer);
  }

  async receive(msg: GroupMsg): Promise<unknown> {
    switch (msg.type) {
      case "configure":
        this.config = msg.config;
        this.#arm();
        this.ctx.self.tell({ type: "tick" });
        return;
      case "tick":
        if (this.config.enabled) await this.#tick();
        return;
      case "force-stop":
        this.#log(`force-stop ${msg.agentId} (admin)`);
        this.#stopping.add(msg.agentId);
        await this.deps.driver.stop(msg.agentId, { force: true });
        return { stopped: msg.agentId };
      case "status":
        return {
          group: this.group,
          config: this.config,
          managed: this.deps.driver.running().filter((id) => this.#ours(id)),
          starting: [...this.#starting.keys()],
          stopping: [...this.#stopping],
          last: this.#last,
        } satisfies AutoscalerStatus;
    }
  }

  #arm(): void {
    clearInterval(this.#timer);
    const self = this.ctx.self;
    this.#timer = setInterval(
      () => self.tell({ type: "tick" }),
      this.config.intervalMs,
    );
  }

  #ours(id: string): boolean {
    return id.startsWith(`${this.config.idPrefix}-${this.group}-`);
  }

  async #tick(): Promise<void> {
    const { driver, registry, scheduler } = this.deps;
    const cfg = this.config;
    const now = Date.now();
    const [list, sessions, pendingAll] = await Promise.all([
      registry.ask<RegistryAgentView[]>({ type: "list" }),
      this.deps.liveSessions(),
      scheduler.ask<PendingView[]>({ type: "pending" }),
    ]);
    const views = list.filter((a) => a.scalingGroup === this.group);
    const pending = pendingAll.filter((p) => p.scalingGroup === this.group);

    // Bookkeeping: booted agents have joined; stopped ones have exited.
    for (const [id, at] of this.#starting) {
      const joined = views.some((a) => a.id === id && a.status === "ALIVE");
      if (joined || now - at > BOOT_GRACE_MS || !driver.owns(id)) {
        this.#starting.delete(id);
      }
    }
    for (const id of this.#stopping) {
      if (!driver.owns(id)) this.#stopping.delete(id);
    }

    const byAgent = new Map<string, ScalingSession[]>();
    for (const s of sessions) {
      if (!s.agentId || s.scalingGroup !== this.group) continue;
      const list = byAgent.get(s.agentId) ?? [];
      list.push(s);
      byAgent.set(s.agentId, list);
    }
    const agents: ScalableAgent[] = [];
    for (const v of views) {
      // Booting agents count through `starting`; stopping ones are gone already.
      if (this.#stopping.has(v.id) || this.#starting.has(v.id)) continue;
      const owned = driver.owns(v.id);
      if (!owned && v.status !== "ALIVE") continue;
      const on = byAgent.get(v.id) ?? [];
      const occupied: Record<string, number> = {};
      for (const s of on) {
        for (const [k, n] of Object.entries(s.requestedSlots)) {
          occupied[k] = (occupied[k] ?? 0) + n;
        }
      }
      agents.push({
        id: v.id,
        capacity: v.resourceSlots,
        occupied,
        runningKernels: Math.max(v.numKernels, on.length),
        protected: !owned,
        hostsProtectedSessions: hostsProtectedSession(
          on.map((s) => ({
            type: s.type,
            createdAt: s.createdAt,
            config: { scale_in_protected: s.protected },
          })),
          cfg.protection,
          now,
        ),
        draining: !v.schedulable,
        cordoned: !v.schedulable && !this.#drainedByUs.has(v.id),
        drainingSince: this.#drainSince(v.id, !v.schedulable, now),
        healthy: v.status === "ALIVE",
        startedAt: Date.parse(v.lastSeen) || 0,
      });
    }

    const bounds = {
      minAgents: cfg.minAgents,
      maxAgents: cfg.maxAgents,
      targetFreeCapacity: cfg.targetFreeCapacity,
    };
    const out = decideScaleOut({
      ...bounds,
      agents: agents.filter((a) => a.healthy),
      pending: pending.map((p) => p.slots),
      agentCapacity: Object.keys(cfg.agentCapacity).length
        ? cfg.agentCapacity
        : largest(agents),
      starting: this.#starting.size,
    });
    // Undrain before starting anything (the policy already counted them).
    for (const u of out.undrain) {
      this.#log(`undrain ${u.agentId} (${u.detail})`);
      this.#drainedByUs.delete(u.agentId);
      registry.tell({ type: "drain", id: u.agentId, draining: false });
    }
    for (let i = 0; i < out.add; i++) {
      const id = this.#freeId(views);
      this.#starting.set(id, now);
      this.#log(`start ${id} (pending ${pending.length}: ${out.detail})`);
      await driver.start({ group: this.group, id, args: cfg.agentArgs });
    }

    // Scale in only in calm weather; unhealthy agents go whatever the weather.
    const calm = out.add === 0 && out.undrain.length === 0 &&
      pending.length === 0 && this.#starting.size === 0;
    const decision = decideScaleIn(
      calm ? agents : agents.filter((a) => a.healthy === false),
      {
        ...(calm ? bounds : { minAgents: 0, maxAgents: Infinity }),
        drainDeadlineMs: (cfg.drainTimeoutSeconds ?? Infinity) * 1000,
        now,
      },
    );
    for (const d of decision.drain) {
      if (!driver.owns(d.agentId)) continue;
      this.#log(`drain ${d.agentId} (${d.reason}: ${d.detail})`);
      this.#drainedByUs.add(d.agentId);
      registry.tell({ type: "drain", id: d.agentId, draining: true });
    }
    for (const s of decision.stop) {
      if (!driver.owns(s.agentId)) continue;
      this.#log(`stop ${s.agentId} (${s.reason}: ${s.detail})`);
      this.#stopping.add(s.agentId);
      await driver.stop(s.agentId, {
        force: s.reason === "unhealthy" || s.reason === "drain-deadline",
      });
    }
    if (
      out.add || out.undrain.length || decision.drain.length ||
      decision.stop.length
    ) {
      this.#last = {
        at: new Date(now).toISOString(),
        add: out.add,
        undrain: out.undrain,
        drain: decision.drain,
        stop: decision.stop,
      };
    }
  }

  /** Lowest free index: a restarted manager re-uses ids, so agents re-adopt their containers. */
  #freeId(views: RegistryAgentView[]): string {
    const taken = new Set([
      ...this.deps.driver.running(),
      ...views.filter((v) => v.status === "ALIVE").map((v) => v.id),
    ]);
    for (let n = 1;; n++) {
      const id = `${this.config.idPrefix}-${this.group}-${n}`;
      if (!taken.has(id)) return id;
    }
  }

  #drainSince(id: string, draining: boolean, now: number): number | undefined {
    if (!draining) {
      this.#draining.delete(id);
      this.#drainedByUs.delete(id);
      return undefined;
    }
    if (!this.#draining.has(id)) this.#draining.set(id, now);
    return this.#draining.get(id);
  }

  #log(line: string): void {
    (this.deps.log ?? console.error)(`autoscaler ${this.group}: ${line}`);
  }
}

function largest(agents: ScalableAgent[]): Record<string, number> {
  let best: Record<string, number> = {};
  for (const a of agents) {
    if ((a.capacity.cpu ?? 0) > (best.cpu ?? 0)) best = a.capacity;
  }
  return best;
}
