/**
 * Price estimates for a request before it runs (`POST /x/cost/estimate`):
 * what its slots cost per hour and per day in a scaling group, meter by
 * meter, running and paused.
 *
 * @module
 */

import type { ResourceSlots } from "../slots.ts";
import type { MeterState } from "./daily.ts";
import {
  accruedCost,
  checkAmount,
  type CostBreakdown,
  MS_PER_HOUR,
  scaleCost,
} from "./meter.ts";
import type { PriceTable } from "./prices.ts";

/**
 * What holding `slots` costs for one hour in `state`: running pays every
 * slot, paused memory only (the burn rate of a session).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hourlyCost } from "./estimate.ts";
 * const prices = { cpuCoreHour: 0.04, memGiBHour: 0.01 };
 * const slots = { cpu: 2, mem: 4 * 1024 ** 3 };
 * assert.ok(Math.abs(hourlyCost(slots, prices).total - 0.12) < 1e-12);
 * assert.ok(Math.abs(hourlyCost(slots, prices, "paused").total - 0.04) < 1e-12);
 * ```
 */
export function hourlyCost(
  slots: ResourceSlots,
  prices: PriceTable,
  state: MeterState = "running",
): CostBreakdown {
  return accruedCost(
    slots,
    state === "running"
      ? { runningMs: MS_PER_HOUR }
      : { runningMs: 0, pausedMs: MS_PER_HOUR },
    prices,
  );
}

/** What a request costs. */
export interface Estimate {
  /** Running, one hour. */
  perHour: CostBreakdown;
  /** Running, 24 hours. */
  perDay: CostBreakdown;
  /** Paused (SUSPENDED): memory only. */
  paused: { perHour: CostBreakdown; perDay: CostBreakdown };
  /** The hours asked for (24 when none). */
  hours: number;
  /** Running for `hours`. */
  total: CostBreakdown;
}

/**
 * Estimates `resources` (normalized slots: `mem` in bytes) at `prices`,
 * running for `hours` (default 24). Throws `InvalidUsageError` for a
 * negative or non-finite amount, price or number of hours.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { estimate } from "./estimate.ts";
 * const e = estimate(
 *   { cpu: 1, mem: 1024 ** 3, "cuda.device": 1 },
 *   { cpuCoreHour: 0.1, memGiBHour: 0.05, deviceHour: { "cuda.device": 2 } },
 *   3,
 * );
 * assert.ok(Math.abs(e.perHour.total - 2.15) < 1e-12);
 * assert.ok(Math.abs(e.total.devices["cuda.device"] - 6) < 1e-12);
 * assert.ok(Math.abs(e.paused.perDay.total - 1.2) < 1e-12);
 * ```
 */
export function estimate(
  resources: ResourceSlots,
  prices: PriceTable,
  hours = 24,
): Estimate {
  checkAmount("hours", hours);
  const perHour = hourlyCost(resources, prices, "running");
  const pausedHour = hourlyCost(resources, prices, "paused");
  return {
    perHour,
    perDay: scaleCost(perHour, 24),
    paused: { perHour: pausedHour, perDay: scaleCost(pausedHour, 24) },
    hours,
    total: scaleCost(perHour, hours),
  };
}
