/**
 * Metered usage and its price. Usage is kept in the units the agent
 * measures (cpu core-milliseconds, memory KiB·ms, unit·ms per device slot),
 * and priced with an hourly {@link PriceTable}, so a price change needs no
 * change to stored usage.
 *
 * Billing is by allocation (what was reserved, not what was busy): a
 * running session pays every slot it holds, a paused (SUSPENDED) one pays
 * its memory only, since its other slots return to the scheduler.
 *
 * @module
 */

import type { ResourceSlots } from "../slots.ts";
import { isDeviceSlot, type PriceTable } from "./prices.ts";

/** Milliseconds in an hour. */
export const MS_PER_HOUR = 3_600_000;
const KIB_PER_GIB = 1024 * 1024;

/** Metered usage of a session (or one interval of it). */
export interface MeteredUsage {
  /** CPU time in core-milliseconds (2 cores held for 1 s = 2000). */
  cpuMs: number;
  /** Memory integral in KiB·ms. */
  memKiBMs: number;
  /** Device time per device slot, e.g. `{ "cuda.device": 3_600_000 }`. */
  deviceMs?: Record<string, number>;
  /**
   * Time spent paused (SUSPENDED), for the statistics. Not priced on its
   * own: the memory held while paused is in `memKiBMs`.
   */
  pausedMs?: number;
}

/** A cost broken down by meter. */
export interface CostBreakdown {
  cpu: number;
  mem: number;
  /** Per device slot. */
  devices: Record<string, number>;
  /** Sum of all parts. */
  total: number;
}

/** Raised for negative or non-finite usage, prices or durations. */
export class InvalidUsageError extends Error {
  override readonly name = "InvalidUsageError";
  /** Which meter, price or duration was bad. */
  readonly field: string;
  constructor(field: string, value: unknown) {
    super(`Invalid ${field}: ${value}`);
    this.field = field;
  }
}

/** `v` when it is a finite number ≥ 0; otherwise {@link InvalidUsageError}. */
export function checkAmount(field: string, v: number): number {
  if (!Number.isFinite(v) || v < 0) throw new InvalidUsageError(field, v);
  return v;
}

/**
 * Prices metered usage. Throws {@link InvalidUsageError} on negative or
 * non-finite numbers (a negative meter is a bug upstream, not a refund).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { usageCost } from "./meter.ts";
 * const c = usageCost(
 *   { cpuMs: 2 * 3_600_000, memKiBMs: 1024 * 1024 * 3_600_000, deviceMs: { "cuda.device": 3_600_000 } },
 *   { cpuCoreHour: 0.05, memGiBHour: 0.01, deviceHour: { "cuda.device": 1 } },
 * );
 * assert.ok(Math.abs(c.total - 1.11) < 1e-9);
 * ```
 */
export function usageCost(
  usage: MeteredUsage,
  prices: PriceTable,
): CostBreakdown {
  const cpu = checkAmount("cpuMs", usage.cpuMs) / MS_PER_HOUR *
    checkAmount("cpuCoreHour", prices.cpuCoreHour);
  const mem = checkAmount("memKiBMs", usage.memKiBMs) / KIB_PER_GIB /
    MS_PER_HOUR * checkAmount("memGiBHour", prices.memGiBHour);
  const devices: Record<string, number> = {};
  let total = cpu + mem;
  for (const [slot, ms] of Object.entries(usage.deviceMs ?? {})) {
    const price = checkAmount(
      `deviceHour.${slot}`,
      prices.deviceHour?.[slot] ?? 0,
    );
    const c = checkAmount(`deviceMs.${slot}`, ms) / MS_PER_HOUR * price;
    devices[slot] = c;
    total += c;
  }
  if (usage.pausedMs !== undefined) checkAmount("pausedMs", usage.pausedMs);
  return { cpu, mem, devices, total };
}

/**
 * Usage of holding `slots` for `runningMs` and then being paused for
 * `pausedMs` (allocation-based billing). `cpu` gives core-ms and every
 * device slot (see `isDeviceSlot`) unit·ms, for the running time only;
 * `mem` (bytes) gives KiB·ms for running and paused time alike.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { allocationUsage } from "./meter.ts";
 * const u = allocationUsage({ cpu: 2, mem: 1024 ** 3, "cuda.device": 1 }, 1000);
 * assert.ok(u.cpuMs === 2000 && u.memKiBMs === 1024 * 1024 * 1000);
 * assert.ok(u.deviceMs?.["cuda.device"] === 1000);
 * const paused = allocationUsage({ cpu: 2, mem: 1024 ** 3 }, 0, 1000);
 * assert.ok(paused.cpuMs === 0 && paused.memKiBMs === 1024 * 1024 * 1000);
 * ```
 */
export function allocationUsage(
  slots: ResourceSlots,
  runningMs: number,
  pausedMs = 0,
): MeteredUsage {
  const run = checkAmount("runningMs", runningMs);
  const held = run + checkAmount("pausedMs", pausedMs);
  const deviceMs: Record<string, number> = {};
  for (const k in slots) {
    if (isDeviceSlot(k)) deviceMs[k] = checkAmount(k, slots[k]) * run;
  }
  const usage: MeteredUsage = {
    cpuMs: checkAmount("cpu", slots.cpu ?? 0) * run,
    memKiBMs: checkAmount("mem", slots.mem ?? 0) / 1024 * held,
    deviceMs,
  };
  if (pausedMs > 0) usage.pausedMs = pausedMs;
  return usage;
}

/** How long a session held its slots, split by state. */
export interface HeldDurations {
  /** Milliseconds running (every slot paid). */
  runningMs: number;
  /**
   * Milliseconds paused (memory paid only).
   * @default {0}
   */
  pausedMs?: number;
}

/**
 * Cost accrued by a session holding `slots`: running time pays every slot,
 * paused time memory only. For a running session "so far", pass the
 * durations up to now.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { accruedCost } from "./meter.ts";
 * const prices = { cpuCoreHour: 1, memGiBHour: 0.5 };
 * const c = accruedCost({ cpu: 2, mem: 1024 ** 3 }, { runningMs: 3_600_000, pausedMs: 3_600_000 }, prices);
 * assert.ok(c.cpu === 2 && c.mem === 1 && c.total === 3);
 * ```
 */
export function accruedCost(
  slots: ResourceSlots,
  held: HeldDurations,
  prices: PriceTable,
): CostBreakdown {
  return usageCost(
    allocationUsage(slots, held.runningMs, held.pausedMs ?? 0),
    prices,
  );
}

/**
 * `cost` multiplied by `factor`, meter by meter (e.g. an hourly rate times
 * a number of hours).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { scaleCost } from "./meter.ts";
 * const c = scaleCost({ cpu: 1, mem: 2, devices: { "cuda.device": 3 }, total: 6 }, 2);
 * assert.ok(c.total === 12 && c.devices["cuda.device"] === 6);
 * ```
 */
export function scaleCost(cost: CostBreakdown, factor: number): CostBreakdown {
  const devices: Record<string, number> = {};
  for (const k in cost.devices) devices[k] = cost.devices[k] * factor;
  return {
    cpu: cost.cpu * factor,
    mem: cost.mem * factor,
    devices,
    total: cost.total * factor,
  };
}
