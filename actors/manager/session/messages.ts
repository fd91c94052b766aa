/**
 * What a SessionActor receives. Local callers (the sessions registry, the
 * gateway adapter, the scheduler) send {@link SessionMsg}; agent nodes send
 * only the {@link SessionInbound} part, validated on receipt by its schema
 * (registered for every session path in node.ts).
 *
 * Replies that take time (a long-poll, a destroy, waiting for a status)
 * are deferred with the runtime's `replyLater`, so the actor keeps taking
 * messages while a caller waits, and the same asks work across nodes.
 *
 * @module
 */

import { z } from "zod";
import type { KernelMsg } from "../../protocol/agent.ts";
import { KernelAdopted, KernelGone, RunEvent } from "../../protocol/manager.ts";
import type { ExecuteMode } from "../port/mod.ts";
import type { SessionStatus } from "../lifecycle.ts";

/** Messages agent nodes send to a session (schema checked on receipt). */
export const SessionInbound = z.discriminatedUnion("type", [
  RunEvent,
  KernelGone,
  KernelAdopted,
]);
export type SessionInbound = z.infer<typeof SessionInbound>;

export type SessionMsg =
  /** Answers SessionInfo. */
  | { type: "info" }
  | { type: "scheduled"; agentId: string }
  | { type: "unschedulable"; reason: string }
  | { type: "created"; kernelId: string; agentId: string; containerId: string }
  | { type: "create-failed"; reason: string }
  /** Answers ExecuteResult once the run stops or `waitMs` passed. */
  | {
    type: "execute";
    mode: ExecuteMode;
    code: string;
    runId: string;
    options: Record<string, unknown>;
    /** @default {POLL_MS} */
    waitMs?: number;
    /**
     * Answer as soon as output arrives, not only when the run stops (a
     * stream's polls: output flows as it comes instead of every waitMs).
     */
    eager?: boolean;
  }
  /** Starts a streamed run; answers `{ runId }` (then polled with `continue`). */
  | {
    type: "stream";
    mode: "query" | "batch";
    code: string;
    options: Record<string, unknown>;
  }
  | { type: "input"; runId: string; text: string }
  | { type: "interrupt" }
  /** A request to the kernel (files, completion); answers the kernel's reply. */
  | { type: "kernel"; msg: KernelMsg }
  /** Answers `{ stats }` once TERMINATED. */
  | { type: "destroy"; reason: string }
  /** Answers once RUNNING again. */
  | { type: "restart" }
  /** Answers {@link WaitedStatus}: one of `statuses`, an ended one, or TIMEOUT. */
  | { type: "wait-status"; statuses: SessionStatus[]; timeoutMs: number }
  | { type: "tick"; now: number }
  | { type: "kernel.away-expired"; kernelId: string; since: number }
  /**
   * The session's agent is being stopped on purpose (agent_retired.ts):
   * a session placed there ends at once in ERROR with `reason`. Answers
   * true once it has ended, false when it was not on that agent.
   */
  | { type: "agent.retired"; agentId: string; reason: string }
  /** Internal: the retired agent reported the kernel's final usage (or could not). */
  | {
    type: "agent.retired.done";
    agentId: string;
    reason: string;
    stats?: Record<string, number>;
  }
  /**
   * Pauses the session (RUNNING → SUSPENDED, its container frozen);
   * answers `{ status }` once frozen (suspend.ts).
   */
  | { type: "suspend"; reason: string }
  /** Resumes a SUSPENDED session; answers once RUNNING (412 at the cost limit). */
  | { type: "resume"; reason?: string }
  /** The keypair's daily cost limit acts on this session (keypair_cost.ts). */
  | { type: "cost.limit"; action: "pause" | "terminate"; reason: string }
  /** The session is in use (a terminal's keystroke, an app request): its idle time restarts. */
  | { type: "activity" }
  /**
   * `holder` (a terminal, an app proxy) keeps the session from idling
   * until `unhold`; a SUSPENDED session resumes. Answers once RUNNING.
   */
  | { type: "hold"; holder: string }
  | { type: "unhold"; holder: string }
  /** Internal (suspend.ts): the agent thawed the kernel. */
  | { type: "resumed"; reason: string }
  /** Internal (suspend.ts): the agent could not freeze the kernel. */
  | { type: "suspend-failed"; reason: string }
  | SessionInbound;

/** Answer of `wait-status`: the status reached and the session's reason then. */
export interface WaitedStatus {
  status: SessionStatus | "TIMEOUT";
  statusInfo: string | null;
}
