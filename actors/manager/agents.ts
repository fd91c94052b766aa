/**
 * AgentRegistryActor (`/user/agents`): the manager's view of agent nodes.
 * Agents join and heartbeat here; the registry persists them, watches each
 * agent's actor (a node declared down turns into `Terminated`), and feeds
 * the scheduler's capacity view.
 *
 * @module
 */

import { Actor, type ActorRef, type Terminated } from "../runtime/types.ts";
import type { AgentMsg } from "../protocol/agent.ts";
import type { AgentInfo, RegistryMsg } from "../protocol/manager.ts";
import type { AgentCapacity, SchedulerMsg } from "./scheduler.ts";

/** Persistence of agents. */
export interface AgentsStorePort {
  upsertAgent(
    info: AgentInfo,
    status: "ALIVE" | "LOST" | "TERMINATED",
  ): Promise<void>;
  /** Kernel ids of live sessions the manager placed on this agent. */
  liveKernelsOn(agentId: string): Promise<string[]>;
}

export type AgentsMsg = RegistryMsg | { type: "list" } | {
  type: "get";
  id: string;
} | {
  type: "drain";
  id: string;
  draining: boolean;
};

interface Entry {
  info: AgentInfo;
  ref: ActorRef<AgentMsg>;
  lastSeen: number;
  alive: boolean;
  /** How it left, once not alive. */
  left?: "LOST" | "TERMINATED";
  draining: boolean;
}

export class AgentRegistryActor extends Actor<AgentsMsg> {
  #agents = new Map<string, Entry>();
  /** Agents the store refused, with the reason last logged. */
  #refused = new Map<string, string>();

  constructor(
    readonly store: AgentsStorePort,
    readonly scheduler: ActorRef<SchedulerMsg>,
    readonly agentRef: (id: string) => ActorRef<AgentMsg>,
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
        return undefined;
      }
      return this.#seen(raw.info, false);
    }
    if (raw.type === "agent.join") return this.#seen(raw.info, true);
    if (raw.type === "agent.leave") return this.#lost(raw.id, "TERMINATED");
    return this.#query(raw);
  }

  #query(raw: Exclude<AgentsMsg, RegistryMsg>): unknown {
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
        e.draining = raw.draining;
        // What the agent will report next, so its heartbeat does not undo this.
        e.info = { ...e.info, draining: raw.draining };
        e.ref.tell({ type: "agent.drain", draining: raw.draining });
        this.#feed();
        return true;
      }
    }
  }

  override async onTerminated(t: Terminated): Promise<void> {
    for (const [id, e] of this.#agents) {
      if (e.ref.node === t.ref.node && e.ref.path === t.ref.path) {
        await this.#lost(id, "LOST");
      }
    }
  }

  async #seen(info: AgentInfo, join: boolean): Promise<unknown> {
    let e = this.#agents.get(info.id);
    const wasAlive = e?.alive ?? false;
    if (join || !wasAlive) {
      // Stored first: an agent the store refuses (a scaling group nobody
      // created) is answered with the reason and kept out of the registry,
      // instead of failing this actor (which would restart the tree).
      try {
        await this.store.upsertAgent(info, "ALIVE");
      } catch (err) {
        return await this.#refuse(info, join, err);
      }
      this.#refused.delete(info.id);
    }
    if (!e) {
      e = {
        info,
        ref: this.agentRef(info.id),
        lastSeen: Date.now(),
        alive: true,
        draining: info.draining,
      };
      this.#agents.set(info.id, e);
    }
    // The agent's own drain flag (SIGTERM, or an admin drain it applied)
    // wins when it changes; an admin drain not yet applied stays in force.
    const drainChanged = e.info.draining !== info.draining;
    if (drainChanged) e.draining = info.draining;
    const changed = !sameCapacity(e.info, info);
    e.info = info;
    e.lastSeen = Date.now();
    e.alive = true;
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

  async #lost(id: string, status: "LOST" | "TERMINATED"): Promise<void> {
    const e = this.#agents.get(id);
    if (!e || !e.alive) return;
    e.alive = false;
    e.left = status;
    this.ctx.unwatch(e.ref);
    await this.store.upsertAgent(e.info, status);
    this.#feed();
  }

  #feed(): void {
    const agents: AgentCapacity[] = [...this.#agents.values()].filter((e) =>
      e.alive
    ).map((e) => ({
      id: e.info.id,
      scalingGroup: e.info.scalingGroup,
      total: e.info.resourceSlots,
      schedulable: !e.draining,
    }));
    this.scheduler.tell({ type: "agents", agents });
  }
}

/**
 * Whether a heartbeat leaves the scheduler's view of the agent as it was:
 * same drain flag, scaling group and total slots. Then the registry only
 * refreshes its entry (no scheduling pass, no store write).
 */
function sameCapacity(a: AgentInfo, b: AgentInfo): boolean {
  if (a.draining !== b.draining || a.scalingGroup !== b.scalingGroup) {
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

/** Why the store refused an agent, in words an operator can act on. */
export function refusalReason(info: AgentInfo, err: unknown): string {
  const e = err as { code?: string; constraint_name?: string } | undefined;
  if (e?.code === "23503") {
    return `unknown scaling group "${info.scalingGroup}": create it first ` +
      `(PUT /x/admin/scaling-groups/${info.scalingGroup})`;
  }
  return `the manager could not register it: ${
    err instanceof Error ? err.message : String(err)
  }`;
}

function view(e: Entry): Record<string, unknown> {
  const { kernels, ...info } = e.info;
  return {
    ...info,
    status: e.alive ? "ALIVE" : e.left ?? "LOST",
    schedulable: !e.draining,
    lastSeen: new Date(e.lastSeen).toISOString(),
    numKernels: kernels.length,
    kernels,
  };
}
