/**
 * "Maintain workload in the selected cost": instead of refusing new
 * sessions at the daily limit, queue them while the day's projected cost
 * would pass it, and start them once it fits.
 *
 * The projection assumes today's running sessions keep burning at their
 * current hourly rate until midnight: `spent + burn × hours left`. A new
 * session may start when the projection with its own burn rate stays
 * within the limit. Since the hours left shrink, a waiting session fits
 * from a computable time ({@link BudgetDecision}'s `fitsAt`), or only after
 * the rollover.
 *
 * @module
 */

import { dayWindow, localTimeOfDay } from "./day.ts";
import { formatCost } from "./limit.ts";
import { checkAmount } from "./meter.ts";

/** Relative slack when comparing a projection with the limit. */
const EPSILON = 1e-9;

/** Input of {@link projectDayCost}. */
export interface ProjectionInput {
  /** Cost spent today so far (cost/daily.ts `costToday().total`). */
  spent: number;
  /** Burn rate of the running sessions, per hour (sum of `hourlyCost`). */
  runningPerHour: number;
  /** The current time (ms). */
  now: number;
  /**
   * IANA zone whose midnight ends the day.
   * @default {"UTC"}
   */
  timeZone?: string;
}

/** The day's projected cost. */
export interface Projection {
  spent: number;
  runningPerHour: number;
  /** Hours to the next local midnight. */
  hoursLeft: number;
  /** `spent + runningPerHour × hoursLeft`. */
  projected: number;
  /** The next local midnight (ms). */
  endsAt: number;
}

/**
 * Projects today's cost to midnight at the current burn rate.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { projectDayCost } from "./maintain.ts";
 * const p = projectDayCost({ spent: 3, runningPerHour: 0.5, now: Date.UTC(2024, 0, 2, 20) });
 * assert.ok(p.hoursLeft === 4 && p.projected === 5);
 * ```
 */
export function projectDayCost(input: ProjectionInput): Projection {
  const spent = checkAmount("spent", input.spent);
  const runningPerHour = checkAmount("runningPerHour", input.runningPerHour);
  const day = dayWindow(input.now, input.timeZone ?? "UTC");
  const hoursLeft = Math.max(0, day.end - input.now) / 3_600_000;
  return {
    spent,
    runningPerHour,
    hoursLeft,
    projected: spent + runningPerHour * hoursLeft,
    endsAt: day.end,
  };
}

/** Input of {@link decideStartWithinBudget}. */
export interface BudgetInput extends ProjectionInput {
  /** The keypair's daily cost limit; null or undefined: unlimited. */
  limit: number | null | undefined;
  /** The new session's burn rate, per hour (`hourlyCost(...).total`). */
  newPerHour: number;
}

/** Whether a new session may start now under "maintain". */
export type BudgetDecision =
  | {
    start: true;
    /** The day's projection with the new session running. */
    projected: number;
  }
  | {
    start: false;
    projected: number;
    /**
     * From when it would fit (ms) if the running sessions keep their rate:
     * today, or the rollover (`endsAt`) when nothing fits today.
     */
    fitsAt: number;
    /** For the pending queue, in words. */
    reason: string;
  };

/**
 * Decides whether a session burning `newPerHour` may start now without the
 * day's projected cost passing `limit`. A session that costs nothing
 * always starts, and so does any session without a limit.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decideStartWithinBudget } from "./maintain.ts";
 * const now = Date.UTC(2024, 0, 2, 12); // 12 h left in UTC
 * const ok = decideStartWithinBudget({ spent: 2, runningPerHour: 0.25, newPerHour: 0.25, limit: 8, now });
 * assert.ok(ok.start); // 2 + 0.5 × 12 = 8
 * const wait = decideStartWithinBudget({ spent: 2, runningPerHour: 0.25, newPerHour: 1, limit: 8, now });
 * assert.ok(!wait.start && wait.fitsAt === Date.UTC(2024, 0, 2, 21)); // 3 of 6 left: 3 h before midnight
 * ```
 */
export function decideStartWithinBudget(input: BudgetInput): BudgetDecision {
  const p = projectDayCost(input);
  const add = checkAmount("newPerHour", input.newPerHour);
  const projected = p.projected + add * p.hoursLeft;
  const limit = input.limit;
  if (limit === null || limit === undefined || add === 0) {
    return { start: true, projected };
  }
  if (projected <= limit * (1 + EPSILON) + EPSILON) {
    return { start: true, projected };
  }
  // Started at t, the projection is p.projected + add × (end − t).
  const headroom = limit - p.projected;
  const zone = input.timeZone ?? "UTC";
  const fitsAt = headroom > 0
    ? Math.ceil(p.endsAt - headroom / add * 3_600_000)
    : p.endsAt;
  const when = headroom > 0
    ? `it fits from ${localTimeOfDay(fitsAt, zone)} (${zone})`
    : `it waits for the daily budget to reset at midnight (${zone})`;
  return {
    start: false,
    projected,
    fitsAt,
    reason: `waiting for the daily cost budget: starting now would bring ` +
      `today's projected cost to ${formatCost(projected)} of the ` +
      `${formatCost(limit)} limit; ${when}`,
  };
}
