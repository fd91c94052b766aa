/**
 * What the manager's domain actors need from their surroundings, as one
 * small interface: the store, refs to sibling actors, the event bus. The
 * manager node builds it once (node.ts) and hands it to each actor's
 * factory, so actors stay testable and never reach for globals.
 *
 * @module
 */

import type { ActorRef } from "../runtime/types.ts";
import type { AgentMsg, KernelMsg } from "../protocol/agent.ts";
import type { SessionEvent } from "./port/mod.ts";
import type { SessionStatus } from "./lifecycle.ts";
import type { SchedulerMsg } from "./scheduler.ts";
import type { KeypairMsg } from "./keypair.ts";

/** A session as its actor holds it (times in ms since the epoch). */
export interface SessionRow {
  id: string;
  name: string;
  accessKey: string;
  image: string;
  type: string;
  status: SessionStatus;
  statusInfo: string | null;
  agentId: string | null;
  kernelId: string | null;
  containerId?: string | null;
  scalingGroup: string;
  requestedSlots: Record<string, number>;
  occupiedSlots: Record<string, number>;
  config: {
    environ?: Record<string, string>;
    bootstrapScript?: string;
    /** The keypair policy's cap on the kernel's scratch dir (work dir), bytes. */
    scratchBytes?: number;
    [k: string]: unknown;
  };
  /** Resolved folder mounts; `host` is the storage host the folder lives on. */
  mounts?: {
    hostPath: string;
    containerPath: string;
    readOnly: boolean;
    host?: string;
  }[];
  tag: string | null;
  protected: boolean;
  createdAt: number;
  terminatedAt: number | null;
  lastActivity: number;
  numQueries: number;
  lastStat: Record<string, unknown> | null;
}

/** Persistence the session actor relies on. */
export interface SessionStorePort {
  getSession(id: string): Promise<SessionRow | undefined>;
  /**
   * Persist a transition (and its reason) with optional field changes;
   * returns the new row. With `via`, through that status first (both
   * recorded, one write).
   */
  transition(
    id: string,
    status: SessionStatus,
    reason: string,
    patch?: Partial<SessionRow>,
    via?: { status: SessionStatus; reason: string },
  ): Promise<SessionRow>;
  /** Record activity (query count, last activity time). */
  touch(id: string, numQueries: number): Promise<void>;
  /** Record a kernel's metered usage at its end. */
  recordUsage(row: SessionRow, stats: Record<string, number>): Promise<void>;
}

/** Lifecycle events fan-out (SSE `GET /events/session`). */
export interface EventBus {
  publish(event: SessionEvent): void;
  subscribe(fn: (event: SessionEvent) => void): () => void;
}

export interface ManagerServices {
  store: SessionStorePort;
  scheduler: ActorRef<SchedulerMsg>;
  keypairs: {
    tell(accessKey: string, msg: KeypairMsg): void;
    /** An ask of the keypair's actor (the cost check of a resume). */
    ask?<T>(accessKey: string, msg: KeypairMsg): Promise<T>;
  };
  events: EventBus;
  agentRef(agentId: string): ActorRef<AgentMsg>;
  kernelRef(agentId: string, kernelId: string): ActorRef<KernelMsg>;
  /** Idle timeout / max lifetime verdict: a reason to destroy, or undefined. */
  expiry(row: SessionRow, now: number): string | undefined;
  /**
   * The keypair's idle-pause time in seconds (0 or undefined: never), from
   * a cache: an idle RUNNING session is paused after it (suspend.ts).
   */
  idlePauseSeconds?(accessKey: string): number | undefined;
  /**
   * The scaling group a session that names none goes to: the cheapest
   * that can host `slots` now (policies/cost/cheapest.ts); undefined:
   * "default".
   */
  scalingGroupFor?(slots: Record<string, number>): Promise<string | undefined>;
}

/** A simple in-process event bus. */
export function createEventBus(): EventBus {
  const subs = new Set<(e: SessionEvent) => void>();
  return {
    publish(event) {
      for (const fn of subs) fn(event);
    },
    subscribe(fn) {
      subs.add(fn);
      return () => subs.delete(fn);
    },
  };
}
