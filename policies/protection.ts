/**
 * Scale-in protection of sessions: whether the autoscaler must leave the
 * agent hosting a session alone (drain it, never stop it). A session is
 * protected by its own flag (`config.scale_in_protected`) or by the scaling
 * group's rules, e.g. "batch sessions" or "sessions older than N minutes"
 * (long-running work is costly to lose).
 *
 * @module
 */

/** What protection needs to know of a session. */
export interface ProtectableSession {
  /** `interactive` or `batch` (others are treated as interactive). */
  type: string;
  /** Creation time (ms). */
  createdAt: number;
  /** The session's config; `scale_in_protected: true` protects it. */
  config?: { scale_in_protected?: boolean | null } | null;
}

/** Protection rules of a scaling group. */
export interface ProtectionRules {
  /**
   * Protect every batch session.
   * @default {false}
   */
  batchSessions?: boolean;
  /**
   * Protect sessions older than this many minutes; absent or null = no
   * age rule. 0 protects every session.
   * @default {undefined}
   */
  olderThanMinutes?: number | null;
}

/** Why a session is protected. */
export type ProtectionReason = "flag" | "batch" | "age";

/**
 * The first reason a session is protected at `now` (ms), or null if it is
 * not. The explicit flag wins, then the batch rule, then the age rule (the
 * age is reached when `now - createdAt >= olderThanMinutes` minutes).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { protectionReason } from "./protection.ts";
 * const s = { type: "interactive", createdAt: 0 };
 * assert.ok(protectionReason(s, { olderThanMinutes: 10 }, 600_000) === "age");
 * assert.ok(protectionReason(s, { olderThanMinutes: 10 }, 599_999) === null);
 * ```
 */
export function protectionReason(
  session: ProtectableSession,
  rules: ProtectionRules,
  now: number,
): ProtectionReason | null {
  if (session.config?.scale_in_protected === true) return "flag";
  if (rules.batchSessions && session.type === "batch") return "batch";
  const minutes = rules.olderThanMinutes;
  if (
    minutes !== null && minutes !== undefined && minutes >= 0 &&
    now - session.createdAt >= minutes * 60_000
  ) {
    return "age";
  }
  return null;
}

/**
 * Whether a session is protected from scale-in at `now`; see
 * {@link protectionReason}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isSessionProtected } from "./protection.ts";
 * const s = { type: "batch", createdAt: 0 };
 * assert.ok(isSessionProtected(s, { batchSessions: true }, 0));
 * assert.ok(!isSessionProtected(s, {}, 0));
 * ```
 */
export function isSessionProtected(
  session: ProtectableSession,
  rules: ProtectionRules,
  now: number,
): boolean {
  return protectionReason(session, rules, now) !== null;
}

/**
 * Whether any of the sessions (e.g. those on one agent) is protected: the
 * `hostsProtectedSessions` input of the scale-in decision.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hostsProtectedSession } from "./protection.ts";
 * const flagged = { type: "interactive", createdAt: 0, config: { scale_in_protected: true } };
 * assert.ok(hostsProtectedSession([flagged], {}, 0));
 * assert.ok(!hostsProtectedSession([], {}, 0));
 * ```
 */
export function hostsProtectedSession(
  sessions: Iterable<ProtectableSession>,
  rules: ProtectionRules,
  now: number,
): boolean {
  for (const s of sessions) if (isSessionProtected(s, rules, now)) return true;
  return false;
}
