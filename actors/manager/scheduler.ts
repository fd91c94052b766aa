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
  }
  | {
    type: "placed";
    sessionId: string;
    agentId: string;
    slots: Record<string, number>;
  }
  | { type: "released"; sessionId: string }
  | { type: "agents"; agents: AgentCapacity[] }
  | { type: "pending" }
  /** An admin set a scaling group's scheduler kind (stored already). */
  | { type: "scheduler-kind"; scalingGroup: string; kind: SchedulerKind }
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
}

/** Why a pending session waits (admin API). */
export interface PendingView {
  sessionId: string;
  accessKey: string;
  scalingGroup: string;
  slots: Record<string, number>;
  since: string;
  /** Machine-readable cause: a WaitReason of policies/scheduling/, or `not-yet-considered`. */
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
    PendingSession & { scalingGroup: string; code: string; reason: string }
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
            code: "not-yet-considered",
            reason: "waiting for a scheduling pass",
          });
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
        this.#pending.delete(msg.sessionId);
        delete this.#retries[msg.sessionId];
        if (this.#placed.delete(msg.sessionId)) this.#queuePass();
        return;
      case "agents":
        this.#agents = new Map(msg.agents.map((a) => [a.id, a]));
        return this.#queuePass();
      case "pending":
        return [...this.#pending.values()].map((p): PendingView => ({
          sessionId: p.id,
          accessKey: p.accessKey,
          scalingGroup: p.scalingGroup,
          slots: p.requestedSlots,
          since: new Date(p.createdAt).toISOString(),
          code: p.code,
          reason: p.reason,
        }));
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
        this.options.sessionRef(sessionId).tell({ type: "scheduled", agentId });
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

function add(
  map: Map<string, Record<string, number>>,
  key: string,
  slots: Record<string, number>,
): void {
  const acc = map.get(key) ?? {};
  for (const [k, v] of Object.entries(slots)) acc[k] = (acc[k] ?? 0) + v;
  map.set(key, acc);
}
