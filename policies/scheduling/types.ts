/**
 * The vocabulary of a scheduling pass: what waits (a pending session), where
 * it may go (a schedulable agent), and what the pass decides (placements,
 * refusals, waits). Shared by the pass (`schedule.ts`) and the policies.
 *
 * @module
 */

import type { ResourceSlots } from "../slots.ts";

/** How an agent is chosen among those that fit. */
export type PlacementStrategy = "binpack" | "spread";

/** A session waiting in the queue. */
export interface PendingSession {
  /** Session id. */
  id: string;
  /** Owning keypair's access key (DRF groups by it). */
  accessKey: string;
  /** Slots the session needs on one agent. */
  requestedSlots: ResourceSlots;
  /** Enqueue time (ms), for FIFO/LIFO order and the pending timeout. */
  createdAt: number;
  /**
   * Storage hosts its mounted folders live on: only an agent that mounts
   * every one of them can host it.
   * @default {[]}
   */
  requiredHosts?: readonly string[];
}

/** The scheduler's view of one agent (from its latest heartbeat). */
export interface SchedulableAgent {
  /** Agent id. */
  id: string;
  /** Total capacity per slot. */
  capacity: ResourceSlots;
  /** Slots already taken by kernels on it. */
  occupied: ResourceSlots;
  /**
   * Whether new sessions may go there (an operator can cordon an agent).
   * @default {true}
   */
  schedulable?: boolean;
  /**
   * Being drained for scale-in: takes nothing new, and its capacity no
   * longer counts when deciding that a session could ever run.
   * @default {false}
   */
  draining?: boolean;
  /** Storage hosts this agent mounts (where folders can come from). @default {[]} */
  storageHosts?: readonly string[];
}

/** Why a session is refused for good. */
export type RefusalReason =
  | "invalid-request"
  | "exceeds-agent-capacity"
  | "pending-timeout";

/** Why a session still waits. */
export type WaitReason =
  | "no-schedulable-agent"
  | "insufficient-resources"
  | "storage-host-unreachable"
  | "queued-behind";

/** A session assigned to an agent. */
export interface Placement {
  sessionId: string;
  agentId: string;
}

/** A session that will never be placed. */
export interface Refusal {
  sessionId: string;
  reason: RefusalReason;
  /** Human-readable explanation (for `statusInfo`). */
  detail: string;
}

/** A session left pending for a later pass. */
export interface Waiting {
  sessionId: string;
  reason: WaitReason;
  /** Human-readable explanation (for `statusInfo`). */
  detail: string;
}

/** Output of a scheduling pass. */
export interface ScheduleResult {
  /** In the order they were decided. */
  placements: Placement[];
  refused: Refusal[];
  waiting: Waiting[];
  /** Failed passes per still-waiting session; feed it to the next pass. */
  retries: Record<string, number>;
}
