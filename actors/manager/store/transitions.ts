/**
 * The session lifecycle as data: which statuses exist, which are live, and
 * which status changes are allowed. Pure, so the session actor and the store
 * share one table and it can be tested without a database.
 *
 * @module
 */

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

/** True while a session counts as alive (it holds its name and its slots). */
export function isLive(status: SessionStatus): boolean {
  return !ENDED_STATUSES.includes(status);
}

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

/** Narrows a string read from the database or the wire to a status. */
export function isSessionStatus(value: string): value is SessionStatus {
  return (SESSION_STATUSES as readonly string[]).includes(value);
}
