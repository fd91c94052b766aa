/**
 * AgentRegistryActor (`/user/manager/agents`): the manager's view of agent
 * nodes. Agents join and heartbeat here; the registry persists them, watches
 * each agent's actor (a node declared down turns into `Terminated`), and
 * feeds the scheduler's capacity view.
 *
 * It also holds each agent's status and why (agent_status.ts), and the drain
 * in force: who drained it (the autoscaler, an operator, the agent itself on
 * SIGTERM), why and since when, persisted, so the autoscaler tells its own
 * drains from an operator's cordon after a manager restart too. An agent
 * stopped on purpose is `retire`d first: it is marked with the reason it
 * will have left for, and with `endSessions` its sessions end at once with
 * that reason (session/agent_retired.ts) instead of waiting for a kernel
 * that will not come back.
 *
 * @module
 */

import {
  Actor,
  type ActorRef,
  replyLater,
  type Terminated,
} from "../runtime/mod.ts";
import type { AgentMsg } from "../protocol/agent.ts";
import type { AgentInfo, RegistryMsg } from "../protocol/manager.ts";
import type { AgentCapacity, SchedulerMsg } from "./scheduler.ts";
import {
  type AgentRecord,
  type AgentStatusValue,
  agentView as view,
  type DrainState,
  LEFT_CLEANLY,
  LOST_CONNECTION,
  refusalReason,
  type ScaleInNote,
  SIGTERM_DRAIN,
} from "./agent_status.ts";

export {
  type AgentStatusValue,
  type DrainedBy,
  type DrainState,
  refusalReason,
  type ScaleInNote,
} from "./agent_status.ts";

/** Persistence of agents. */
export interface AgentsStorePort {
  /**
   * Registers or refreshes an agent with its status and the reason for it
   * (null: none); answers the drain stored for it (null: none).
   */
  upsertAgent(
    info: AgentInfo,
    status: AgentStatusValue,
    statusInfo?: string | null,
  ): Promise<DrainState | null | void>;
  /** Stores the drain in force, or clears it (null). */
  setAgentDrain(id: string, drain: DrainState | null): Promise<void>;
  /** Kernel ids of live sessions the manager placed on this agent. */
  liveKernelsOn(agentId: string): Promise<string[]>;
}

/** What the registry tells the sessions parent about an agent stopped on purpose. */
export type AgentRetiredMsg = {
  type: "agent.retired";
  agentId: string;
  reason: string;
};

export type AgentsMsg =
  | RegistryMsg
  | { type: "list" }
  | { type: "get"; id: string }
  /** Drains (or undrains) an agent; answers false for an unknown agent. */
  | {
    type: "drain";
    id: string;
    draining: boolean;
    /** @default {"admin"} */
    by?: "admin" | "scale-in";
    reason?: string;
  }
  /**
   * The agent is about to be stopped on purpose: it takes nothing new, it
   * will show `status` (TERMINATED, or LOST for an agent already lost)
   * with `reason` once gone, and with `endSessions` its sessions end now
   * with that reason. Answers `{ sessions }` (how many ended) once they have.
   */
  | {
    type: "retire";
    id: string;
    reason: string;
    endSessions: boolean;
    by?: "admin" | "scale-in";
  }
  /** A group autoscaler's last decision for each of its agents. */
  | { type: "scale-in.notes"; group: string; notes: ScaleInNote[] };

interface Entry extends AgentRecord {
  ref: ActorRef<AgentMsg>;
  /** A drain flag told to the agent and not yet echoed by its heartbeat. */
  told?: boolean;
  /** Writes of this agent's row, in order. */
  writes?: Promise<unknown>;
}

/** Options of {@link AgentRegistryActor}. */
export interface RegistryOptions {
  /** Where the sessions parent lives (`retire` with `endSessions` tells it). */
  sessionsPath?: string;
}

export class AgentRegistryActor extends Actor<AgentsMsg> {
  #agents = new Map<string, Entry>();
  /** Agents the store refused, with the reason last logged. */
  #refused = new Map<string, string>();

  constructor(
    readonly store: AgentsStorePort,
    readonly scheduler: ActorRef<SchedulerMsg>,
    readonly agentRef: (id: string) => ActorRef<AgentMsg>,
    readonly options: RegistryOptions = {},
  ) {
    super();
  }

  receive(raw: AgentsMsg): unknown {
    // Registry messages are validated (defaults applied) on receipt: node.ts
    // registers RegistryMsg for this path with the cluster. Parsing again
    // would double the cost of every heartbeat (1,000 agents: 1,000 a second).
    if (raw.type === "agent.heartbeat") {
      // The hot path: a known, live agent is updated in place, synchronously.
      const e = this.#agents.get(raw.info.id);
      if (e?.alive && sameCapacity(e.info, raw.info)) {
        e.info = raw.info;
        e.lastSeen = Date.now();
        e.told = undefined; // the flag told, if any, is echoed
        return undefined;
      }
      return this.#seen(raw.info, false);
    }
    if (raw.type === "agent.join") return this.#seen(raw.info, true);
    if (raw.type === "agent.leave") {
      return this.#gone(raw.id, "TERMINATED", raw.reason ?? LEFT_CLEANLY);
    }
    return this.#command(raw);
  }

  #command(raw: Exclude<AgentsMsg, RegistryMsg>): unknown {
    switch (raw.type) {
      case "list":
        return [...this.#agents.values()].map(view);
      case "get": {
        const e = this.#agents.get(raw.id);
        return e ? view(e) : undefined;
      }
      case "drain": {
        const e = this.#agents.get(raw.id);
        if (!e) return false;
        const by = raw.by ?? "admin";
        const stored = this.#setDrain(
          e,
          raw.draining
            ? {
              by,
              reason: raw.reason ??
                (by === "admin" ? "drained by an administrator" : "scale-in"),
              since: e.drain?.since ?? Date.now(),
            }
            : null,
        );
        // Answered once stored: an acknowledged drain survives a crash.
        return replyLater(stored.then(() => true));
      }
      case "retire":
        return this.#retire(raw);
      case "scale-in.notes": {
        const byId = new Map(raw.notes.map((n) => [n.agentId, n]));
        for (const e of this.#agents.values()) {
          if (e.info.scalingGroup === raw.group) {
            e.scaleIn = byId.get(e.info.id) ?? e.scaleIn;
          }
        }
        return;
      }
    }
  }

  #retire(raw: Extract<AgentsMsg, { type: "retire" }>): unknown {
    const e = this.#agents.get(raw.id);
    if (!e) return { sessions: 0 };
    if (e.alive) {
      e.leaving = raw.reason;
      // Nothing new lands on it between now and its stop.
      if (!e.drain) {
        this.#setDrain(e, {
          by: raw.by ?? "scale-in",
          reason: raw.reason,
          since: Date.now(),
        });
      }
    } else if (e.left?.status === "LOST") {
      // Lost, and now stopped for good: the reason says both.
      e.left = { status: "LOST", reason: raw.reason };
      this.#write(e, () => this.store.upsertAgent(e.info, "LOST", raw.reason));
    }
    const path = this.options.sessionsPath;
    if (!raw.endSessions || !path) return { sessions: 0 };
    const sessions = this.ctx.system.refFor<AgentRetiredMsg>({
      node: this.ctx.self.node,
      path,
    });
    // Deferred: heartbeats keep flowing while the sessions end.
    return replyLater(
      sessions.ask<number>(
        { type: "agent.retired", agentId: raw.id, reason: raw.reason },
        { timeoutMs: 15_000 },
      ).then((n) => ({ sessions: n }), () => ({ sessions: 0 })),
    );
  }

  override async onTerminated(t: Terminated): Promise<void> {
    for (const [id, e] of this.#agents) {
      if (e.ref.node === t.ref.node && e.ref.path === t.ref.path) {
        await this.#gone(id, "LOST", LOST_CONNECTION);
      }
    }
  }

  async #seen(info: AgentInfo, join: boolean): Promise<unknown> {
    let e = this.#agents.get(info.id);
    const wasAlive = e?.alive ?? false;
    let stored: DrainState | null = null;
    if (join || !wasAlive) {
      // Stored first: an agent the store refuses (a scaling group nobody
      // created) is answered with the reason and kept out of the registry,
      // instead of failing this actor (which would restart the tree).
      try {
        stored = await this.store.upsertAgent(info, "ALIVE", null) ?? null;
      } catch (err) {
        return await this.#refuse(info, join, err);
      }
      this.#refused.delete(info.id);
    }
    if (!e) {
      // New to this registry (a manager restart): the stored drain holds.
      e = {
        info,
        ref: this.agentRef(info.id),
        lastSeen: Date.now(),
        alive: true,
        drain: stored,
      };
      this.#agents.set(info.id, e);
    }
    const before = e.info;
    this.#reconcileDrain(e, info, join || !wasAlive);
    // The info kept carries the manager's drain flag, which the heartbeat
    // hot path compares against.
    e.info = { ...info, draining: e.drain !== null };
    e.lastSeen = Date.now();
    e.alive = true;
    e.left = undefined;
    const changed = !sameCapacity(before, e.info);
    // Drain flag, total slots or group changed: the scheduler's view too.
    if (changed && !join && wasAlive) this.#feed();
    if (join || !wasAlive) {
      this.ctx.watch(e.ref);
      this.#feed();
    }
    if (join) {
      return {
        ok: true,
        knownKernels: await this.store.liveKernelsOn(info.id),
      };
    }
    return undefined;
  }

  /**
   * The manager's drain and the agent's flag, made to agree. A flag told to
   * the agent wins until its heartbeat echoes it (an older heartbeat is
   * stale); an agent that starts draining on its own was sent SIGTERM; an
   * agent that (re)joins without a drain the manager holds is told again.
   */
  #reconcileDrain(e: Entry, info: AgentInfo, joined: boolean): void {
    const held = e.drain !== null;
    if (e.told !== undefined) {
      if (info.draining === e.told) e.told = undefined;
      else if (!joined) return;
    }
    if (info.draining === held) return;
    if (info.draining) {
      this.#setDrain(e, { by: "agent", reason: SIGTERM_DRAIN, since: now() });
    } else if (e.drain?.by === "agent") {
      // It drained itself for a stop that did not happen (it restarted).
      this.#setDrain(e, null);
    } else {
      e.told = true;
      e.ref.tell({ type: "agent.drain", draining: true });
    }
  }

  /**
   * Sets (or clears) the drain, tells the agent and the scheduler, and
   * persists it; resolves once stored.
   */
  #setDrain(e: Entry, drain: DrainState | null): Promise<unknown> {
    const was = e.drain !== null;
    e.drain = drain;
    if (drain === null) e.leaving = undefined;
    const draining = drain !== null;
    const stored = this.#write(
      e,
      () => this.store.setAgentDrain(e.info.id, drain),
    );
    if (!e.alive) return stored;
    if (drain?.by !== "agent" && (was !== draining || e.told !== undefined)) {
      e.told = draining;
      e.ref.tell({ type: "agent.drain", draining });
    }
    e.info = { ...e.info, draining };
    this.#feed();
    return stored;
  }

  /**
   * Answers a join the store refused, and logs the reason once per agent and
   * reason. The agent retries on its next heartbeat, so creating the scaling
   * group (`PUT /x/admin/scaling-groups/{name}`) lets it in.
   */
  async #refuse(
    info: AgentInfo,
    join: boolean,
    err: unknown,
  ): Promise<unknown> {
    const reason = refusalReason(info, err);
    if (this.#refused.get(info.id) !== reason) {
      this.#refused.set(info.id, reason);
      console.error(`agents: refused agent ${info.id}: ${reason}`);
    }
    if (!join) return undefined;
    // Kernels the manager knows there stay known: a refused agent must not
    // read the answer as "forget everything".
    const knownKernels = await this.store.liveKernelsOn(info.id).catch(
      () => [] as string[],
    );
    return { ok: false, reason, knownKernels };
  }

  /**
   * The agent is gone: TERMINATED when it left or was stopped on purpose
   * (the reason it was retired for wins), LOST when its node went down
   * unannounced. Its kernels are no longer counted.
   */
  async #gone(
    id: string,
    status: "LOST" | "TERMINATED",
    reason: string,
  ): Promise<void> {
    const e = this.#agents.get(id);
    if (!e || !e.alive) return;
    const final = e.leaving !== undefined ? "TERMINATED" : status;
    const why = e.leaving ?? reason;
    e.alive = false;
    e.left = { status: final, reason: why };
    e.leaving = undefined;
    e.told = undefined;
    e.info = { ...e.info, kernels: [] };
    this.ctx.unwatch(e.ref);
    // A stopped agent's drain ends with it; a lost one may come back drained.
    if (final === "TERMINATED" && e.drain) this.#setDrain(e, null);
    const info = e.info;
    await this.#write(e, () => this.store.upsertAgent(info, final, why));
    this.#feed();
  }

  /** Runs `write` after this agent's earlier writes; failures are logged, not thrown. */
  #write(e: Entry, write: () => Promise<unknown>): Promise<unknown> {
    const id = e.info.id;
    e.writes = (e.writes ?? Promise.resolve()).then(write).catch((err) =>
      console.error(`agents: could not store agent ${id}: ${err}`)
    );
    return e.writes;
  }

  #feed(): void {
    const agents: AgentCapacity[] = [...this.#agents.values()].filter((e) =>
      e.alive
    ).map((e) => ({
      id: e.info.id,
      scalingGroup: e.info.scalingGroup,
      total: e.info.resourceSlots,
      schedulable: e.drain === null,
      storageHosts: e.info.storageHosts,
    }));
    this.scheduler.tell({ type: "agents", agents });
  }
}

const now = () => Date.now();

/**
 * Whether a heartbeat leaves the scheduler's view of the agent as it was:
 * same drain flag, scaling group, storage hosts and total slots. Then the registry only
 * refreshes its entry (no scheduling pass, no store write).
 */
function sameCapacity(a: AgentInfo, b: AgentInfo): boolean {
  if (
    a.draining !== b.draining || a.scalingGroup !== b.scalingGroup ||
    a.storageHosts.join("\n") !== b.storageHosts.join("\n")
  ) {
    return false;
  }
  const x = a.resourceSlots, y = b.resourceSlots;
  let n = 0;
  for (const k in x) {
    if (x[k] !== y[k]) return false;
    n++;
  }
  for (const _ in y) n--;
  return n === 0;
}
