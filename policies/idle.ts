/**
 * When a session must be closed: after `idle_timeout` seconds without
 * activity, or `max_session_lifetime` seconds after creation, whichever
 * comes first (0 = no such limit, as in Backend.AI's resource policy).
 * The session actor calls this on a timer; `nextCheckAt` tells it when the
 * answer can next change, so it need not poll.
 *
 * @module
 */

/** The two limits, in seconds (keypair resource policy columns). */
export interface ExpiryPolicy {
  /** Seconds without activity; 0 or absent = never. */
  idle_timeout?: number;
  /** Seconds since creation; 0 or absent = forever. */
  max_session_lifetime?: number;
}

/** Input of {@link decideExpiry}. All times in ms. */
export interface ExpiryInput {
  /** When the session was created. */
  createdAt: number;
  /** Last user activity (execution, file transfer, stream). */
  lastActivityAt: number;
  /** The limits. */
  policy: ExpiryPolicy;
  /** Current time. */
  now: number;
}

/** Why a session expired. */
export type ExpiryReason = "idle-timeout" | "max-lifetime";

/** Outcome of {@link decideExpiry}. */
export type ExpiryDecision =
  | {
    expire: false;
    /** When to ask again (ms); null when no limit applies. */
    nextCheckAt: number | null;
  }
  | {
    expire: true;
    reason: ExpiryReason;
    /** When the limit was reached (ms). */
    at: number;
  };

/**
 * Decides whether a session expires at `now`. A limit is reached when `now`
 * is at or past its deadline; if both are, the earlier deadline is the
 * reason (ties go to `max-lifetime`, the harder limit). Activity recorded
 * before creation is treated as creation.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decideExpiry } from "./idle.ts";
 * const policy = { idle_timeout: 60, max_session_lifetime: 3600 };
 * const d = decideExpiry({ createdAt: 0, lastActivityAt: 0, policy, now: 60_000 });
 * assert.ok(d.expire && d.reason === "idle-timeout");
 * const e = decideExpiry({ createdAt: 0, lastActivityAt: 30_000, policy, now: 60_000 });
 * assert.ok(!e.expire && e.nextCheckAt === 90_000);
 * ```
 */
export function decideExpiry(input: ExpiryInput): ExpiryDecision {
  const { createdAt, policy, now } = input;
  const last = Math.max(input.lastActivityAt, createdAt);
  const idle = policy.idle_timeout ?? 0;
  const life = policy.max_session_lifetime ?? 0;
  const idleAt = idle > 0 ? last + idle * 1000 : Infinity;
  const lifeAt = life > 0 ? createdAt + life * 1000 : Infinity;
  if (lifeAt <= now && lifeAt <= idleAt) {
    return { expire: true, reason: "max-lifetime", at: lifeAt };
  }
  if (idleAt <= now) {
    return { expire: true, reason: "idle-timeout", at: idleAt };
  }
  const next = Math.min(idleAt, lifeAt);
  return { expire: false, nextCheckAt: Number.isFinite(next) ? next : null };
}
