/**
 * An agent's status as the admin API shows it (`GET /x/admin/agents`), one
 * per cause, and the words for each reason:
 *
 * | status     | when                                                                 | statusInfo                                  |
 * |------------|----------------------------------------------------------------------|---------------------------------------------|
 * | ALIVE      | connected; `schedulable: false` while a drain is in force            | null, or `draining (WHO): WHY`              |
 * | LOST       | its node went down unannounced (it may come back: kernels re-adopt)  | `connection lost …`, or why it was stopped  |
 * | TERMINATED | it left on purpose: SIGTERM drain, scale-in stop, an admin's stop    | the reason it was stopped or left           |
 *
 * Draining is not a status of its own (Backend.AI's agent statuses have
 * none, and clients filter on ALIVE): a draining agent is ALIVE and not
 * schedulable, and `drain` says who drained it, why and since when. An agent
 * that is not ALIVE counts no kernels.
 *
 * @module
 */

import type { AgentInfo } from "../protocol/manager.ts";

/** Stored and shown statuses of an agent. */
export type AgentStatusValue = "ALIVE" | "LOST" | "TERMINATED";

/** Who drained an agent. */
export type DrainedBy = "scale-in" | "admin" | "agent";

/** A drain in force. */
export interface DrainState {
  /**
   * `scale-in`: the group's autoscaler (it undrains when demand returns);
   * `admin`: an operator's cordon (never undone by the autoscaler);
   * `agent`: the agent drains itself (it was sent SIGTERM).
   */
  by: DrainedBy;
  /** Why, in words. */
  reason: string;
  /** When draining began (ms since the epoch). */
  since: number;
}

/** A group autoscaler's last decision about one agent (`scaleIn` of the agent view). */
export interface ScaleInNote {
  agentId: string;
  /** What it did or does: nothing (`keep`), `drain`, `undrain`, `stop`. */
  action: "keep" | "drain" | "undrain" | "stop";
  /** The rule, as policies/scale_in.ts and scale_out.ts name it (`surplus`, `target-free-capacity`, ...). */
  reason: string;
  /** The rule in words. */
  detail: string;
  /** When it was decided (ISO time). */
  at: string;
}

/** statusInfo of an agent that left the cluster on its own, without a reason given. */
export const LEFT_CLEANLY = "left the cluster (agent shut down)";

/** statusInfo of an agent whose node went down unannounced. */
export const LOST_CONNECTION =
  "connection lost: the node went down without leaving (it may come back)";

/** Drain reason of an agent that drains itself. */
export const SIGTERM_DRAIN =
  "the agent is shutting down (SIGTERM): it takes no new sessions and " +
  "exits once its kernels have ended";

const WHO: Record<DrainedBy, string> = {
  "scale-in": "by scale-in",
  admin: "by an administrator",
  agent: "by the agent itself",
};

/**
 * statusInfo of a live, draining agent.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { drainStatusInfo } from "./agent_status.ts";
 * assert.equal(
 *   drainStatusInfo({ by: "admin", reason: "drained by an administrator", since: 0 }),
 *   "draining (by an administrator): drained by an administrator",
 * );
 * ```
 */
export function drainStatusInfo(drain: DrainState, leaving?: string): string {
  return leaving
    ? `stopping: ${leaving}`
    : `draining (${WHO[drain.by]}): ${drain.reason}`;
}

/** Reasons the autoscaler gives agents it stops, and their sessions. */
export const StopReasons = {
  /** An admin's `POST /x/admin/agents/{id}/stop`. */
  admin: () => "agent stopped by an administrator",
  drainDeadline: (group: string, seconds: number) =>
    `stopped by scale-in at the drain deadline of group ${group} ` +
    `(drainTimeoutSeconds ${seconds})`,
  lost: (group: string, detail: string) =>
    `lost, then stopped by the autoscaler of group ${group} (${detail})`,
  scaleIn: (group: string, detail: string) =>
    `stopped by scale-in of group ${group}: ${detail}`,
} as const;

/** What the registry knows of an agent, as far as its view needs. */
export interface AgentRecord {
  info: AgentInfo;
  /** Last heartbeat (ms). */
  lastSeen: number;
  alive: boolean;
  /** How and why it left, once not alive. */
  left?: { status: "LOST" | "TERMINATED"; reason: string };
  /** Set before it is stopped on purpose: the reason it will have left for. */
  leaving?: string;
  /** The drain in force (the scheduler places nothing on it). */
  drain: DrainState | null;
  /** Its group autoscaler's last word on it. */
  scaleIn?: ScaleInNote;
}

/**
 * An agent as `GET /x/admin/agents` shows it: what it reported, plus
 * `status` and `statusInfo` (the table above), `schedulable`, `drain`
 * (`{by, reason, since}` or null), `scaleIn` (the autoscaler's last
 * decision about it, or null), `lastSeen`, and `numKernels` with its
 * `kernels` (none once it is not ALIVE).
 */
export function agentView(e: AgentRecord): Record<string, unknown> {
  const { kernels, ...info } = e.info;
  const drain = e.drain;
  return {
    ...info,
    status: e.alive ? "ALIVE" : e.left?.status ?? "LOST",
    statusInfo: e.alive
      ? (drain ? drainStatusInfo(drain, e.leaving) : null)
      : e.left?.reason ?? null,
    schedulable: e.alive && drain === null,
    drain: drain && {
      by: drain.by,
      reason: drain.reason,
      since: new Date(drain.since).toISOString(),
    },
    scaleIn: e.scaleIn ?? null,
    lastSeen: new Date(e.lastSeen).toISOString(),
    numKernels: e.alive ? kernels.length : 0,
    kernels: e.alive ? kernels : [],
  };
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
