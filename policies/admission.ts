/**
 * Admission of a new session (or virtual folder) against the keypair's
 * resource policy, given what the keypair already uses. All limits are
 * checked and every exceeded one is reported, so the 412 quota-exceeded
 * answer tells the user everything to fix at once.
 *
 * Conventions, as in Backend.AI: a slot missing from `total_resource_slots`
 * (or set to Infinity) is unlimited; `null`/`undefined` means "no limit"
 * for the count and cost limits; for `max_vfolder_count`,
 * `max_vfolder_size`, `idle_timeout` and `max_session_lifetime`, 0 also
 * means no limit.
 *
 * @module
 */

import { type ResourceSlots, SLOT_EPSILON } from "./slots.ts";

/** A keypair resource policy (API.md "Resource policies and keypairs"). */
export interface KeypairResourcePolicy {
  /** Per-slot caps on the sum over all the keypair's live sessions. */
  total_resource_slots: ResourceSlots;
  /** Most live sessions at once; null = unlimited. */
  max_concurrent_sessions?: number | null;
  /** Most containers (kernels) in one session; null = unlimited. */
  max_containers_per_session?: number | null;
  /** Seconds without activity before a session is closed; 0 = never. */
  idle_timeout?: number;
  /** Seconds a session may live at most; 0 = forever. */
  max_session_lifetime?: number;
  /** Most virtual folders owned; 0 = unlimited. */
  max_vfolder_count?: number;
  /** Largest quota (bytes) of one virtual folder; 0 = unlimited. */
  max_vfolder_size?: number;
  /** Bytes each session's work dir (scratch) may hold; 0 = the agent's default. */
  max_scratch_size?: number;
  /** Most cost per day (same currency as the price table); null = unlimited. */
  daily_cost_limit?: number | null;
}

/** What a keypair uses right now. */
export interface KeypairUsage {
  /** Live (not ended) sessions, pending ones included. */
  concurrent_sessions: number;
  /** Slots held by those sessions. */
  occupied_slots: ResourceSlots;
  /** Cost accrued today so far (ended and running sessions: cost/daily.ts). */
  cost_today: number;
  /**
   * When today's cost resets (ms: the next midnight in the cost time zone,
   * cost/day.ts); named in a `daily_cost_limit` refusal when given.
   */
  cost_resets_at?: number;
}

/** A session asking to be admitted. */
export interface SessionAdmissionRequest {
  /** Slots of the whole session (all its containers together). */
  slots: ResourceSlots;
  /**
   * Number of containers in the session.
   * @default {1}
   */
  containers?: number;
  /**
   * Cost the session is expected to add today, when known in advance.
   * @default {0}
   */
  estimated_cost?: number;
}

/** One limit a request would exceed: the `data` of a 412 answer. */
export interface ExceededLimit {
  /** Policy field, e.g. `max_concurrent_sessions`, `total_resource_slots.cpu`. */
  limit: string;
  /** What the request adds. */
  requested: number;
  /** What is already in use. */
  used: number;
  /** The policy's maximum. */
  max: number;
  /** When a daily limit resets (ISO 8601), for `daily_cost_limit`. */
  resetsAt?: string;
}

/**
 * A typed rejection: the request would exceed the listed limits. A value
 * (returned in {@link AdmissionDecision}) that the caller may also throw;
 * the HTTP edge maps it to 412 quota-exceeded with {@link toProblemData}.
 */
export class QuotaExceededError extends Error {
  override readonly name = "QuotaExceededError";
  /** Every exceeded limit, in policy order. */
  readonly exceeded: readonly ExceededLimit[];
  constructor(exceeded: ExceededLimit[]) {
    super(
      "Your resource quota is exceeded: " +
        exceeded.map((e) =>
          `${e.limit} (requested ${e.requested}, used ${e.used}, max ${e.max})`
        ).join("; "),
    );
    this.exceeded = exceeded;
  }

  /** The `data` member of the problem+json body. */
  toProblemData(): { exceeded: ExceededLimit[] } {
    return { exceeded: this.exceeded.map((e) => ({ ...e })) };
  }
}

/** Outcome of an admission check. */
export type AdmissionDecision =
  | { ok: true }
  | { ok: false; error: QuotaExceededError };

function isUnlimited(max: number | null | undefined): max is null | undefined {
  return max === null || max === undefined || max === Infinity;
}

/**
 * Checks a new session against the policy: concurrent sessions, containers
 * per session, each capped slot, and today's cost (refused once the day's
 * budget is spent, even for a session of unknown cost).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { admitSession } from "./admission.ts";
 * const d = admitSession(
 *   { total_resource_slots: { cpu: 4 }, max_concurrent_sessions: 2 },
 *   { concurrent_sessions: 1, occupied_slots: { cpu: 3 }, cost_today: 0 },
 *   { slots: { cpu: 2, mem: 1024 } },
 * );
 * assert.ok(!d.ok && d.error.exceeded[0].limit === "total_resource_slots.cpu");
 * ```
 */
export function admitSession(
  policy: KeypairResourcePolicy,
  usage: KeypairUsage,
  request: SessionAdmissionRequest,
): AdmissionDecision {
  const exceeded: ExceededLimit[] = [];
  const maxSessions = policy.max_concurrent_sessions;
  if (
    !isUnlimited(maxSessions) && usage.concurrent_sessions + 1 > maxSessions
  ) {
    exceeded.push({
      limit: "max_concurrent_sessions",
      requested: 1,
      used: usage.concurrent_sessions,
      max: maxSessions,
    });
  }
  const containers = request.containers ?? 1;
  const maxContainers = policy.max_containers_per_session;
  if (!isUnlimited(maxContainers) && containers > maxContainers) {
    exceeded.push({
      limit: "max_containers_per_session",
      requested: containers,
      used: 0,
      max: maxContainers,
    });
  }
  const caps = policy.total_resource_slots ?? {};
  for (const slot in request.slots) {
    const want = request.slots[slot];
    const max = caps[slot];
    if (!(want > 0) || isUnlimited(max)) continue;
    const used = usage.occupied_slots[slot] ?? 0;
    if (used + want > max + SLOT_EPSILON) {
      exceeded.push({
        limit: `total_resource_slots.${slot}`,
        requested: want,
        used,
        max,
      });
    }
  }
  const costMax = policy.daily_cost_limit;
  const cost = request.estimated_cost ?? 0;
  if (
    !isUnlimited(costMax) &&
    (usage.cost_today >= costMax || usage.cost_today + cost > costMax)
  ) {
    exceeded.push({
      limit: "daily_cost_limit",
      requested: cost,
      used: usage.cost_today,
      max: costMax,
      ...(usage.cost_resets_at === undefined
        ? {}
        : { resetsAt: new Date(usage.cost_resets_at).toISOString() }),
    });
  }
  return exceeded.length
    ? { ok: false, error: new QuotaExceededError(exceeded) }
    : { ok: true };
}

/** What a keypair holds in virtual folders. */
export interface VfolderUsage {
  /** Folders the keypair's user owns. */
  count: number;
}

/** A folder asking to be created. */
export interface VfolderAdmissionRequest {
  /** Requested quota in bytes; absent = the policy's maximum. */
  quota?: number;
}

/**
 * Checks the creation of a virtual folder against `max_vfolder_count` and
 * `max_vfolder_size` (0 = unlimited for both).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { admitVfolder } from "./admission.ts";
 * const policy = { total_resource_slots: {}, max_vfolder_count: 1 };
 * assert.ok(admitVfolder(policy, { count: 0 }, {}).ok);
 * assert.ok(!admitVfolder(policy, { count: 1 }, {}).ok);
 * ```
 */
export function admitVfolder(
  policy: KeypairResourcePolicy,
  usage: VfolderUsage,
  request: VfolderAdmissionRequest,
): AdmissionDecision {
  const exceeded: ExceededLimit[] = [];
  const maxCount = policy.max_vfolder_count ?? 0;
  if (maxCount > 0 && usage.count + 1 > maxCount) {
    exceeded.push({
      limit: "max_vfolder_count",
      requested: 1,
      used: usage.count,
      max: maxCount,
    });
  }
  const maxSize = policy.max_vfolder_size ?? 0;
  if (maxSize > 0 && request.quota !== undefined && request.quota > maxSize) {
    exceeded.push({
      limit: "max_vfolder_size",
      requested: request.quota,
      used: 0,
      max: maxSize,
    });
  }
  return exceeded.length
    ? { ok: false, error: new QuotaExceededError(exceeded) }
    : { ok: true };
}
