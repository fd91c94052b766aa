/**
 * The daily cost limit, live: where a keypair stands against its
 * `daily_cost_limit` today, and what follows. At 80 % (configurable) a
 * warning; at 100 % new sessions are refused (admission.ts,
 * `daily_cost_limit`) and running ones get the policy's action: `pause`
 * (the default: they go SUSPENDED and pay memory only) or `terminate`.
 *
 * {@link CostSettingsSchema} validates the settings where they are
 * configured.
 *
 * @module
 */

import { z } from "zod";
import { isValidTimeZone } from "./day.ts";

/** What happens to running sessions when the limit is reached. */
export const COST_ACTIONS = ["pause", "terminate"] as const;

/** One of {@link COST_ACTIONS}. */
export type CostAction = (typeof COST_ACTIONS)[number];

/** How the daily limit is enforced. */
export interface CostSettings {
  /**
   * What running sessions get at 100 %.
   * @default {"pause"}
   */
  action?: CostAction;
  /**
   * Fraction of the limit at which to warn.
   * @default {0.8}
   */
  warnRatio?: number;
  /**
   * "Maintain workload in the selected cost": queue new sessions while the
   * projected cost of the day would pass the limit (`maintain.ts`) instead
   * of refusing them.
   * @default {false}
   */
  maintain?: boolean;
  /**
   * IANA time zone whose midnight rolls the day over.
   * @default {"UTC"}
   */
  timeZone?: string;
}

/**
 * The settings as configuration accepts them, defaults filled; unknown
 * keys, unknown zones and ratios outside (0, 1] refused.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CostSettingsSchema } from "./limit.ts";
 * const s = CostSettingsSchema.parse({ timeZone: "Asia/Seoul" });
 * assert.deepEqual(s, { action: "pause", warnRatio: 0.8, maintain: false, timeZone: "Asia/Seoul" });
 * assert.ok(!CostSettingsSchema.safeParse({ timeZone: "Nowhere/Land" }).success);
 * ```
 */
export const CostSettingsSchema: z.ZodType<
  Required<CostSettings>,
  CostSettings
> = z.strictObject({
  action: z.enum(COST_ACTIONS).default("pause"),
  warnRatio: z.number().gt(0).max(1).default(0.8),
  maintain: z.boolean().default(false),
  timeZone: z.string().refine(isValidTimeZone, { message: "unknown time zone" })
    .default("UTC"),
});

/** Where a keypair stands. */
export type CostVerdict =
  | {
    level: "ok" | "warn";
    /** Spent today. */
    spent: number;
    /** The limit; null when unlimited. */
    limit: number | null;
    /** `spent / limit` (0 when unlimited). */
    ratio: number;
  }
  | {
    level: "limit";
    spent: number;
    limit: number;
    ratio: number;
    /** What running sessions get. */
    action: CostAction;
  };

/**
 * The verdict for `spent` against `limit` (null or undefined: unlimited):
 * `limit` at 100 % or more (a limit of 0 is always reached), `warn` at
 * `warnRatio` or more, else `ok`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { costVerdict } from "./limit.ts";
 * assert.equal(costVerdict(7.9, 10).level, "ok");
 * assert.equal(costVerdict(8, 10).level, "warn");
 * const v = costVerdict(10, 10, { action: "terminate" });
 * assert.ok(v.level === "limit" && v.action === "terminate");
 * assert.equal(costVerdict(1e9, null).level, "ok");
 * ```
 */
export function costVerdict(
  spent: number,
  limit: number | null | undefined,
  settings: CostSettings = {},
): CostVerdict {
  if (!Number.isFinite(spent) || spent < 0) {
    throw new RangeError(`Invalid cost spent: ${spent}`);
  }
  if (limit === null || limit === undefined || limit === Infinity) {
    return { level: "ok", spent, limit: null, ratio: 0 };
  }
  const ratio = limit > 0 ? spent / limit : 1;
  if (ratio >= 1) {
    return {
      level: "limit",
      spent,
      limit,
      ratio,
      action: settings.action ?? "pause",
    };
  }
  return {
    level: ratio >= (settings.warnRatio ?? 0.8) ? "warn" : "ok",
    spent,
    limit,
    ratio,
  };
}

/**
 * The status reason a session shows when the limit acts on it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { limitStatusReason } from "./limit.ts";
 * assert.equal(
 *   limitStatusReason({ action: "pause", limit: 10, spent: 10.2 }),
 *   "paused: today's cost 10.20 reached the daily cost limit 10.00",
 * );
 * ```
 */
export function limitStatusReason(
  v: { action: CostAction; limit: number; spent: number },
): string {
  const verb = v.action === "pause" ? "paused" : "terminated";
  return `${verb}: today's cost ${
    formatCost(v.spent)
  } reached the daily cost ` +
    `limit ${formatCost(v.limit)}`;
}

/**
 * A cost for messages: two decimals, two significant digits below a cent.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatCost } from "./limit.ts";
 * assert.equal(formatCost(12.4), "12.40");
 * assert.equal(formatCost(0.0042), "0.0042");
 * ```
 */
export function formatCost(x: number): string {
  return x !== 0 && Math.abs(x) < 0.01 ? x.toPrecision(2) : x.toFixed(2);
}
