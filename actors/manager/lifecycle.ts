/**
 * The session lifecycle, in one place: the statuses, which of them are
 * ended, which status changes are allowed, and how a session is shown to
 * the API ({@link toSessionInfo}). Pure, so the session actor, the sessions
 * registry, the keypair actor and the store share one vocabulary and one
 * table, and it can be tested without a database.
 *
 * @example
 * ```ts
 * import { canTransition, isEnded } from "./lifecycle.ts";
 * import assert from "node:assert/strict";
 * assert.ok(canTransition("RUNNING", "SUSPENDED"));
 * assert.ok(!canTransition("TERMINATED", "RUNNING"));
 * assert.ok(isEnded("CANCELLED"));
 * ```
 *
 * @module
 */

import type { SessionInfo } from "./port/mod.ts";
import { servicePortsOf } from "./channel/service_ports.ts";

/** Every session status Backend.AI clients may see (API.md, "Statuses"). */
export const SESSION_STATUSES = [
  "PENDING",
  "SCHEDULED",
  "PREPARING",
  "BUILDING",
  "PULLING",
  "RUNNING",
  "RESTARTING",
  "RESIZING",
  "SUSPENDED",
  "TERMINATING",
  "TERMINATED",
  "ERROR",
  "CANCELLED",
] as const;

/** A session's lifecycle status. */
export type SessionStatus = typeof SESSION_STATUSES[number];

/**
 * Statuses of a session that has ended. The partial unique index on
 * (access_key, name) in migrations/0001_init.sql uses the same list: keep
 * them in step.
 */
export const ENDED_STATUSES: readonly SessionStatus[] = [
  "TERMINATED",
  "CANCELLED",
  "ERROR",
];

const ENDED = new Set<string>(ENDED_STATUSES);

/** True once a session reached TERMINATED, CANCELLED or ERROR. */
export function isEnded(status: string): boolean {
  return ENDED.has(status);
}

/** True while a session counts as alive (it holds its name and its slots). */
export function isLive(status: SessionStatus): boolean {
  return !ENDED.has(status);
}

/** Statuses of a session that still holds (or waits for) resources: all but the ended ones, in table order. */
export const LIVE_STATUSES: readonly SessionStatus[] = SESSION_STATUSES.filter(
  isLive,
);

/**
 * Allowed next statuses. The happy path is PENDING → SCHEDULED → PREPARING →
 * RUNNING → TERMINATING → TERMINATED; PULLING and BUILDING are optional steps
 * of preparation; RESTARTING, RESIZING and SUSPENDED return to RUNNING.
 * A session not yet on an agent is CANCELLED; one whose container exists goes
 * through TERMINATING. ERROR, TERMINATED and CANCELLED are final: a name is
 * free again once its session reached one of them, so reviving would clash.
 */
export const SESSION_TRANSITIONS: Readonly<
  Record<SessionStatus, readonly SessionStatus[]>
> = {
  PENDING: ["SCHEDULED", "CANCELLED", "ERROR"],
  SCHEDULED: ["PULLING", "PREPARING", "CANCELLED", "TERMINATING", "ERROR"],
  PULLING: ["PREPARING", "CANCELLED", "TERMINATING", "ERROR"],
  PREPARING: [
    "PULLING",
    "BUILDING",
    "RUNNING",
    "CANCELLED",
    "TERMINATING",
    "ERROR",
  ],
  BUILDING: ["RUNNING", "TERMINATING", "ERROR"],
  RUNNING: ["RESTARTING", "RESIZING", "SUSPENDED", "TERMINATING", "ERROR"],
  RESTARTING: ["RUNNING", "TERMINATING", "ERROR"],
  RESIZING: ["RUNNING", "TERMINATING", "ERROR"],
  SUSPENDED: ["RUNNING", "TERMINATING", "ERROR"],
  TERMINATING: ["TERMINATED", "ERROR"],
  TERMINATED: [],
  ERROR: [],
  CANCELLED: [],
};

/** Whether `from → to` is in the allowed-transition table. */
export function canTransition(from: SessionStatus, to: SessionStatus): boolean {
  return SESSION_TRANSITIONS[from].includes(to);
}

/** Thrown for a status change the table does not allow. */
export class IllegalSessionTransition extends Error {
  override name = "IllegalSessionTransition";
  constructor(readonly from: SessionStatus, readonly to: SessionStatus) {
    super(`session status ${from} cannot change to ${to}`);
  }
}

/** Throws {@link IllegalSessionTransition} unless `from → to` is allowed. */
export function assertTransition(from: SessionStatus, to: SessionStatus): void {
  if (!canTransition(from, to)) throw new IllegalSessionTransition(from, to);
}

/** What {@link toSessionInfo} reads of a session (a stored row or an actor's state). */
export interface SessionFacts {
  id: string;
  name: string;
  image: string;
  type: string;
  status: SessionStatus;
  statusInfo: string | null;
  agentId: string | null;
  kernelId: string | null;
  scalingGroup: string;
  occupiedSlots: Record<string, number>;
  tag: string | null;
  protected: boolean;
  createdAt: number;
  terminatedAt: number | null;
  numQueries: number;
  lastStat: Record<string, unknown> | null;
  /** The create's options; `preopenPorts` adds service ports. */
  config?: Record<string, unknown>;
}

/**
 * `GET /session/{ref}` of a session, live or ended: the one mapping from
 * the manager's facts to the API's fields. `statusInfo` overrides the
 * stored reason (a live session waiting for its agent says so).
 */
export function toSessionInfo(
  r: SessionFacts,
  now: number,
  statusInfo: string | null = r.statusInfo,
): SessionInfo {
  return {
    sessionId: r.id,
    sessionName: r.name,
    lang: r.image,
    image: r.image,
    type: r.type,
    status: r.status,
    statusInfo,
    age: (r.terminatedAt ?? now) - r.createdAt,
    creationTime: new Date(r.createdAt).toISOString(),
    terminationTime: r.terminatedAt
      ? new Date(r.terminatedAt).toISOString()
      : null,
    occupiedSlots: r.occupiedSlots,
    numQueriesExecuted: r.numQueries,
    lastStat: r.lastStat,
    agentId: r.agentId,
    kernelId: r.kernelId,
    tag: r.tag,
    scalingGroup: r.scalingGroup,
    protected: r.protected,
    servicePorts: servicePortsOf(r.image, preopenOf(r)),
  };
}

/** A session's preopen ports as stored with its create options. */
export function preopenOf(r: Pick<SessionFacts, "config">): unknown[] {
  const p = r.config?.preopenPorts;
  return Array.isArray(p) ? p : [];
}
