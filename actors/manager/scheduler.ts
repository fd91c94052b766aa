/**
 * SchedulerActor (`/user/scheduler`): the pending queues and the capacity
 * view. A pass runs on every relevant event (enqueue, release, agent join,
 * leave or drain) and on a timer; the decision itself is a pure policy
 * (policies/scheduling/), so this actor only keeps state and tells
 * sessions where they go.
 *
 * Capacity is counted here, not read back from heartbeats: an agent's total
 * slots come from the registry, and what is taken is the sum of the sessions
 * this actor placed and that have not been released. So two passes can never
 * book the same room twice, whatever the heartbeat timing.
 *
 * @module
 */

import { Actor, type ActorRef } from "../runtime/types.ts";
import { type PendingOrigin, pendingOrigin, placementSpan } from "./spans.ts";
import {
  DEFAULT_SCHEDULER,
  type PendingSession,
  type SchedulableAgent,
  schedule,
  type SchedulerKind,
} from "../../policies/scheduling/mod.ts";

export type SchedulerMsg =
  | {
    type: "enqueue";
    sessionId: string;
    accessKey: string;
    slots: Record<string, number>;
    scalingGroup: string;
    createdAt: number;
    /** Held back by the keypair's cost budget ("maintain"), with the reason. */
    hold?: string;
    /** Storage hosts of its mounted folders: its agent must mount them all. */
    requiredHosts?: string[];
  }
  | {
    type: "placed";
    sessionId: string;
    agentId: string;
    slots: Record<string, number>;
  }
  | { type: "released"; sessionId: string }
  /**
   * The keypair's cost budget holds a pending session back ("maintain",
   * actors/manager/keypair_cost.ts): it stays queued with `reason` and is
   * not placed until `unhold`. May come before its `enqueue`.
   */
  | { type: "hold"; sessionId: string; reason: string }
  | { type: "unhold"; sessionId: string }
  /** A placed session holds other slots now (suspended: memory only). */
  | { type: "resize"; sessionId: string; slots: Record<string, number> }
  /**
   * A suspended session wants `slots` on its agent again: answers
   * `{ ok: true }` and books them, or `{ ok: false, reason }` when they do
   * not fit there now (nothing changes then).
   */
  | { type: "reclaim"; sessionId: string; slots: Record<string, number> }
  /** Free and total room of each schedulable agent, by scaling group: answers GroupRoom[]. */
  | { type: "room" }
  | { type: "agents"; agents: AgentCapacity[] }
  | { type: "pending" }
  /** An admin set a scaling group's scheduler kind (stored already). */
  | { type: "scheduler-kind"; scalingGroup: string; kind: SchedulerKind }
  /**
   * The group's autoscaler on why its sessions wait when its limits are the
   * cause (e.g. "the scaling group is at maxAgents (3): ..."); null clears.
   */
  | { type: "scaling-note"; scalingGroup: string; detail: string | null }
  | { type: "pass" }
  | { type: "debug.crash"; reason: string };

/**
 * Thrown on purpose by `debug.crash` (an admin-only hook, enabled with
 * `BAI_DEBUG_HOOKS=1`): proves the supervisor tree rebuilds the scheduler's
 * queues from the sessions (root.ts), without having to break real code.
 */
export class SchedulerCrash extends Error {
  override name = "SchedulerCrash";
}

/** An agent as the scheduler sees it. */
export interface AgentCapacity {
  id: string;
  scalingGroup: string;
  total: Record<string, number>;
  schedulable: boolean;
  /** Storage hosts it mounts (folders on them can be mounted there). */
  storageHosts?: string[];
}

/** The room of a scaling group's schedulable agents (cheapest-group choice). */
export interface GroupRoom {
  scalingGroup: string;
  agents: { free: Record<string, number>; total: Record<string, number> }[];
}

/** Why a pending session waits (admin API). */
export interface PendingView {
  sessionId: string;
  accessKey: string;
  scalingGroup: string;
  slots: Record<string, number>;
  since: string;
  /**
   * Machine-readable cause: a WaitReason of policies/scheduling/,
   * `not-yet-considered`, or `scaling-limit` (no room, and the group's
   * autoscaler may not add any: `reason` says which limit).
   */
  code: string;
  /** Human-readable cause, as the last pass decided it. */
  reason: string;
}

export interface SchedulerOptions {
  /**
   * The stored scheduler kind of each scaling group, read at every start;
   * later changes arrive as `scheduler-kind` messages. A group not listed
   * uses DEFAULT_SCHEDULER.
   */
  loadKinds?: () => Promise<Record<string, SchedulerKind>>;
  /** Placement: bin-pack or spread. @default {"binpack"} */
  placement?: "binpack" | "spread";
  /** Timer between passes. @default {2000} */
  intervalMs?: number;
  /** Where session actors live. */
  sessionRef(
    sessionId: string,
  ): ActorRef<
    { type: "scheduled"; agentId: string } | {
      type: "unschedulable";
      reason: string;
    }
  >;
}

export class SchedulerActor extends Actor<SchedulerMsg> {
  #pending = new Map<
    string,
    PendingSession & {
      scalingGroup: string;
      code: string;
      reason: string;
      /** Its trace, for the placement span (spans.ts; tracing on only). */
      origin?: PendingOrigin;
    }
  >();
  #retries: Record<string, number> = {};
  #placed = new Map<
    string,
    { agentId: string; slots: Record<string, number>; accessKey: string }
  >();
  #agents = new Map<string, AgentCapacity>();
  #timer?: ReturnType<typeof setInterval>;
  #passQueued = false;
  #kinds = new Map<string, SchedulerKind>();
  /** Autoscalers' word on why their group's sessions wait (`scaling-note`). */
  #notes = new Map<string, string>();
  /** Sessions the cost budget holds back, with the reason (may precede their enqueue). */
  #held = new Map<string, string>();

  constructor(readonly options: SchedulerOptions) {
    super();
  }

  override async preStart(): Promise<void> {
    const kinds = await this.options.loadKinds?.() ?? {};
    this.#kinds = new Map(Object.entries(kinds));
    const self = this.ctx.self;
    this.#timer = setInterval(
      () => self.tell({ type: "pass" }),
      this.options.intervalMs ?? 2000,
    );
  }

  override postStop(): void {
    clearInterval(this.#timer);
  }

  receive(msg: SchedulerMsg): unknown {
    switch (msg.type) {
      case "enqueue":
        if (!this.#placed.has(msg.sessionId)) {
          this.#pending.set(msg.sessionId, {
            id: msg.sessionId,
            accessKey: msg.accessKey,
            requestedSlots: msg.slots,
            scalingGroup: msg.scalingGroup,
            createdAt: msg.createdAt,
            requiredHosts: msg.requiredHosts,
            code: "not-yet-considered",
            reason: "waiting for a scheduling pass",
            origin: pendingOrigin(this.ctx.traceparent),
          });
          if (msg.hold) this.#held.set(msg.sessionId, msg.hold);
        }
        return this.#queuePass();
      case "placed": // re-attached at manager start: the room is taken
        this.#placed.set(msg.sessionId, {
          agentId: msg.agentId,
          slots: msg.slots,
          accessKey: "",
        });
        return;
      case "released":
        this.#held.delete(msg.sessionId);
        this.#pending.delete(msg.sessionId);
        delete this.#retries[msg.sessionId];
        if (this.#placed.delete(msg.sessionId)) this.#queuePass();
        return;
      case "hold":
        this.#held.set(msg.sessionId, msg.reason);
        return;
      case "unhold":
        if (this.#held.delete(msg.sessionId)) this.#queuePass();
        return;
      case "resize": {
        const p = this.#placed.get(msg.sessionId);
        if (p) p.slots = msg.slots;
        return this.#queuePass();
      }
      case "reclaim":
        return this.#reclaim(msg.sessionId, msg.slots);
      case "room":
        return this.#room();
      case "agents":
        this.#agents = new Map(msg.agents.map((a) => [a.id, a]));
        return this.#queuePass();
      case "pending":
        return [...this.#pending.values()].map((p): PendingView => {
          const held = this.#held.get(p.id);
          const note = !held && NO_ROOM.has(p.code)
            ? this.#notes.get(p.scalingGroup)
            : undefined;
          return {
            sessionId: p.id,
            accessKey: p.accessKey,
            scalingGroup: p.scalingGroup,
            slots: p.requestedSlots,
            since: new Date(p.createdAt).toISOString(),
            code: held ? "cost-budget" : note ? "scaling-limit" : p.code,
            reason: held ?? note ?? p.reason,
          };
        });
      case "scaling-note":
        if (msg.detail) this.#notes.set(msg.scalingGroup, msg.detail);
        else this.#notes.delete(msg.scalingGroup);
        return;
      case "scheduler-kind":
        this.#kinds.set(msg.scalingGroup, msg.kind);
        return this.#queuePass();
      case "pass":
        this.#passQueued = false;
        return this.#pass();
      case "debug.crash":
        throw new SchedulerCrash(msg.reason);
    }
  }

  #reclaim(
    sessionId: string,
    slots: Record<string, number>,
  ): { ok: true } | { ok: false; reason: string } {
    const p = this.#placed.get(sessionId);
    if (!p) return { ok: false, reason: "the session holds no place" };
    const agent = this.#agents.get(p.agentId);
    if (!agent) {
      return { ok: false, reason: `agent ${p.agentId} is not connected` };
    }
    const used = usedByAgent(this.#placed, sessionId).get(p.agentId) ?? {};
    for (const [slot, amount] of Object.entries(slots)) {
      const free = (agent.total[slot] ?? 0) - (used[slot] ?? 0);
      if (amount > free + 1e-9) {
        return {
          ok: false,
          reason: `no room on agent ${p.agentId}: ${slot} needs ${amount}, ` +
            `${Math.max(0, free)} free (others took it while it was suspended)`,
        };
      }
    }
    p.slots = slots;
    return { ok: true };
  }

  #room(): GroupRoom[] {
    const used = usedByAgent(this.#placed);
    const groups = new Map<string, GroupRoom>();
    for (const a of this.#agents.values()) {
      if (!a.schedulable) continue;
      let g = groups.get(a.scalingGroup);
      if (!g) {
        groups.set(
          a.scalingGroup,
          g = { scalingGroup: a.scalingGroup, agents: [] },
        );
      }
      const taken = used.get(a.id) ?? {};
      const free: Record<string, number> = {};
      for (const [k, v] of Object.entries(a.total)) {
        free[k] = v - (taken[k] ?? 0);
      }
      g.agents.push({ free, total: a.total });
    }
    return [...groups.values()];
  }

  /** Coalesces a burst of events into one pass. */
  #queuePass(): void {
    if (this.#passQueued) return;
    this.#passQueued = true;
    this.ctx.self.tell({ type: "pass" });
  }

  #pass(): void {
    if (this.#pending.size === 0) return;
    const used = new Map<string, Record<string, number>>();
    const occupiedByKeypair = new Map<string, Record<string, number>>();
    for (const p of this.#placed.values()) {
      add(used, p.agentId, p.slots);
      if (p.accessKey) add(occupiedByKeypair, p.accessKey, p.slots);
    }
    const byGroup = new Map<string, PendingSession[]>();
    for (const p of this.#pending.values()) {
      if (this.#held.has(p.id)) continue;
      const list = byGroup.get(p.scalingGroup) ?? [];
      list.push(p);
      byGroup.set(p.scalingGroup, list);
    }
    for (const [group, pending] of byGroup) {
      const agents: SchedulableAgent[] = [...this.#agents.values()]
        .filter((a) => a.scalingGroup === group)
        .map((a) => ({
          id: a.id,
          capacity: a.total,
          occupied: used.get(a.id) ?? {},
          schedulable: a.schedulable,
          storageHosts: a.storageHosts,
        }));
      const decision = schedule({
        pending,
        agents,
        occupiedByKeypair: Object.fromEntries(occupiedByKeypair),
        options: {
          order: this.#kinds.get(group) ?? DEFAULT_SCHEDULER,
          placement: this.options.placement ?? "binpack",
          numRetriesToSkip: 5,
        },
        now: Date.now(),
        retries: this.#retries,
      });
      Object.assign(this.#retries, decision.retries);
      for (const { sessionId, agentId } of decision.placements) {
        const p = this.#pending.get(sessionId)!;
        this.#pending.delete(sessionId);
        delete this.#retries[sessionId];
        this.#placed.set(sessionId, {
          agentId,
          slots: p.requestedSlots,
          accessKey: p.accessKey,
        });
        add(used, agentId, p.requestedSlots);
        placementSpan(
          p.origin,
          { sessionId, scalingGroup: group, agentId },
          () =>
            this.options.sessionRef(sessionId).tell({
              type: "scheduled",
              agentId,
            }),
        );
      }
      for (const { sessionId, detail } of decision.refused) {
        this.#pending.delete(sessionId);
        delete this.#retries[sessionId];
        this.options.sessionRef(sessionId).tell({
          type: "unschedulable",
          reason: detail,
        });
      }
      for (const { sessionId, reason, detail } of decision.waiting) {
        const p = this.#pending.get(sessionId);
        if (p) {
          p.code = reason;
          p.reason = detail;
        }
      }
    }
  }
}

/** Wait codes that mean "no room": an autoscaler's note explains them better. */
const NO_ROOM = new Set(["no-schedulable-agent", "insufficient-resources"]);

/** Slots taken on each agent by the placed sessions, leaving out `except`. */
function usedByAgent(
  placed: Map<string, { agentId: string; slots: Record<string, number> }>,
  except?: string,
): Map<string, Record<string, number>> {
  const used = new Map<string, Record<string, number>>();
  for (const [id, p] of placed) {
    if (id !== except) add(used, p.agentId, p.slots);
  }
  return used;
}

function add(
  map: Map<string, Record<string, number>>,
  key: string,
  slots: Record<string, number>,
): void {
  const acc = map.get(key) ?? {};
  for (const [k, v] of Object.entries(slots)) acc[k] = (acc[k] ?? 0) + v;
  map.set(key, acc);
}
