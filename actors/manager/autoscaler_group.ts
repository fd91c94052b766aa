/**
 * The autoscaler of one scaling group (autoscaler.ts explains what it does
 * on each tick; the decisions are policies/scale_out.ts and scale_in.ts).
 *
 * @module
 */

import { Actor } from "../runtime/types.ts";
import { decideScaleIn, type ScaleInAction } from "../../policies/scale_in.ts";
import { decideScaleOut } from "../../policies/scale_out.ts";
import type { AutoscalerConfig } from "./autoscaler_config.ts";
import { StopReasons } from "./agent_status.ts";
import type { PendingView } from "./scheduler.ts";
import {
  notesOf,
  type RegistryAgentView,
  scalableAgents,
} from "./autoscaler_view.ts";
import type {
  AutoscalerDeps,
  AutoscalerStatus,
  GroupMsg,
} from "./autoscaler.ts";

/** How long a started agent may take to join before it is no longer counted as booting. */
const BOOT_GRACE_MS = 120_000;

/** How one stop is carried out. */
interface StopPlan {
  /** Why, for the agent's statusInfo and (forced) its sessions. */
  reason: string;
  /** SIGKILL now (kernels end) instead of a SIGTERM drain. */
  force: boolean;
  /** Who asked. @default {"scale-in"} */
  by?: "admin" | "scale-in";
}

/** The autoscaler of one scaling group. */
export class GroupAutoscalerActor extends Actor<GroupMsg> {
  #timer?: ReturnType<typeof setInterval>;
  #starting = new Map<string, number>();
  #stopping = new Set<string>();
  #last?: AutoscalerStatus["last"];
  #pendingDetail?: string;

  constructor(
    readonly group: string,
    public config: AutoscalerConfig,
    readonly deps: AutoscalerDeps,
  ) {
    super();
  }

  get idPrefix(): string {
    return this.config.idPrefix ?? this.deps.defaultIdPrefix ?? "auto";
  }

  override preStart(): void {
    this.#arm();
    this.ctx.self.tell({ type: "tick" });
  }

  override postStop(): void {
    clearInterval(this.#timer);
    this.#notePending(undefined);
  }

  async receive(msg: GroupMsg): Promise<unknown> {
    switch (msg.type) {
      case "configure":
        this.config = msg.config;
        this.#arm();
        if (!msg.config.enabled) this.#notePending(undefined);
        this.ctx.self.tell({ type: "tick" });
        return;
      case "tick":
        if (this.config.enabled) await this.#tick();
        return;
      case "force-stop":
        this.#log(`force-stop ${msg.agentId} (admin)`);
        await this.#stop(msg.agentId, {
          reason: StopReasons.admin(),
          force: true,
          by: "admin",
        });
        return { stopped: msg.agentId };
      case "status":
        return {
          group: this.group,
          config: this.config,
          idPrefix: this.idPrefix,
          managed: this.deps.driver.running().filter((id) => this.#ours(id)),
          starting: [...this.#starting.keys()],
          stopping: [...this.#stopping],
          last: this.#last,
          pendingDetail: this.#pendingDetail,
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
    return id.startsWith(`${this.idPrefix}-${this.group}-`);
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

    // Booting agents count through `starting`; stopping ones are gone already.
    const agents = scalableAgents({
      group: this.group,
      views,
      sessions,
      config: cfg,
      now,
      owns: (id) => driver.owns(id),
      skip: (id) => this.#stopping.has(id) || this.#starting.has(id),
    });
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
    this.#notePending(out.pendingDetail);
    // Undrain before starting anything (the policy already counted them).
    for (const u of out.undrain) {
      this.#log(`undrain ${u.agentId} (${u.detail})`);
      registry.tell({
        type: "drain",
        id: u.agentId,
        draining: false,
        by: "scale-in",
      });
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
    registry.tell({
      type: "scale-in.notes",
      group: this.group,
      notes: notesOf(agents, out, decision, !calm, now),
    });
    for (const d of decision.drain) {
      if (!driver.owns(d.agentId)) continue;
      this.#log(`drain ${d.agentId} (${because(d)})`);
      registry.tell({
        type: "drain",
        id: d.agentId,
        draining: true,
        by: "scale-in",
        reason: because(d),
      });
    }
    for (const s of decision.stop) {
      if (!driver.owns(s.agentId)) continue;
      this.#log(`stop ${s.agentId} (${because(s)})`);
      await this.#stop(s.agentId, this.#plan(s));
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

  /** The reason and the manner of a scale-in stop. */
  #plan(s: ScaleInAction): StopPlan {
    switch (s.reason) {
      case "drain-deadline":
        return {
          reason: StopReasons.drainDeadline(
            this.group,
            this.config.drainTimeoutSeconds ?? 0,
          ),
          force: true,
        };
      case "unhealthy":
        return { reason: StopReasons.lost(this.group, s.detail), force: true };
      case "admin-force":
        return { reason: StopReasons.admin(), force: true, by: "admin" };
      default:
        return {
          reason: StopReasons.scaleIn(this.group, s.detail),
          force: false,
        };
    }
  }

  /**
   * Announces the stop to the registry (the agent takes nothing new and
   * will show the reason; a forced stop ends its sessions now, with their
   * usage), then stops it.
   */
  async #stop(id: string, plan: StopPlan): Promise<void> {
    this.#stopping.add(id);
    try {
      await this.deps.registry.ask({
        type: "retire",
        id,
        reason: plan.reason,
        endSessions: plan.force,
        by: plan.by,
      }, { timeoutMs: 20_000 });
    } catch (err) {
      this.#log(`${id}: sessions not ended before the stop: ${err}`);
    }
    await this.deps.driver.stop(id, { force: plan.force });
  }

  /** Tells the scheduler why this group's pending sessions wait (or that the group is not the cause). */
  #notePending(detail: string | undefined): void {
    if (detail === this.#pendingDetail) return;
    this.#pendingDetail = detail;
    this.deps.scheduler.tell({
      type: "scaling-note",
      scalingGroup: this.group,
      detail: detail ?? null,
    });
  }

  /** Lowest free index: a restarted manager re-uses ids, so agents re-adopt their containers. */
  #freeId(views: RegistryAgentView[]): string {
    const taken = new Set([
      ...this.deps.driver.running(),
      ...views.filter((v) => v.status === "ALIVE").map((v) => v.id),
    ]);
    for (let n = 1;; n++) {
      const id = `${this.idPrefix}-${this.group}-${n}`;
      if (!taken.has(id)) return id;
    }
  }

  #log(line: string): void {
    (this.deps.log ?? console.error)(`autoscaler ${this.group}: ${line}`);
  }
}

/** `reason: detail`, without saying the reason twice. */
function because(a: ScaleInAction): string {
  return a.detail.startsWith(`${a.reason}:`)
    ? a.detail
    : `${a.reason}: ${a.detail}`;
}

function largest(
  agents: { capacity: Record<string, number> }[],
): Record<string, number> {
  let best: Record<string, number> = {};
  for (const a of agents) {
    if ((a.capacity.cpu ?? 0) > (best.cpu ?? 0)) best = a.capacity;
  }
  return best;
}
