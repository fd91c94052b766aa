/**
 * What a session costs. Usage is metered in the units the agent measures
 * (cpu core-milliseconds, memory KiB·ms, device·ms per device slot) and
 * priced with an hourly price table, so a price change needs no change to
 * stored usage. Daily aggregation splits a usage record that spans
 * midnight between the two days in proportion to time, so a keypair's
 * `daily_cost_limit` sees only today's part.
 *
 * @module
 */

import type { ResourceSlots } from "./slots.ts";

const MS_PER_HOUR = 3_600_000;
const KIB_PER_GIB = 1024 * 1024;
const MS_PER_DAY = 86_400_000;

/** Metered usage of a session (or one interval of it). */
export interface MeteredUsage {
  /** CPU time in core-milliseconds (2 cores busy for 1 s = 2000). */
  cpuMs: number;
  /** Memory integral in KiB·ms. */
  memKiBMs: number;
  /** Device time per device slot, e.g. `{ "cuda.device": 3_600_000 }`. */
  deviceMs?: Record<string, number>;
}

/** Hourly prices. */
export interface PriceTable {
  /** Price of one core for one hour. */
  cpuCoreHour: number;
  /** Price of one GiB of memory for one hour. */
  memGiBHour: number;
  /** Price of one device for one hour, per device slot; missing = free. */
  deviceHour?: Record<string, number>;
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

/** Raised for negative or non-finite usage or prices. */
export class InvalidUsageError extends Error {
  override readonly name = "InvalidUsageError";
  /** Which meter or price was bad. */
  readonly field: string;
  constructor(field: string, value: unknown) {
    super(`Invalid ${field}: ${value}`);
    this.field = field;
  }
}

function check(field: string, v: number): number {
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
 * import { usageCost } from "./cost.ts";
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
  const cpu = check("cpuMs", usage.cpuMs) / MS_PER_HOUR *
    check("cpuCoreHour", prices.cpuCoreHour);
  const mem = check("memKiBMs", usage.memKiBMs) / KIB_PER_GIB / MS_PER_HOUR *
    check("memGiBHour", prices.memGiBHour);
  const devices: Record<string, number> = {};
  let total = cpu + mem;
  for (const [slot, ms] of Object.entries(usage.deviceMs ?? {})) {
    const price = check(`deviceHour.${slot}`, prices.deviceHour?.[slot] ?? 0);
    const c = check(`deviceMs.${slot}`, ms) / MS_PER_HOUR * price;
    devices[slot] = c;
    total += c;
  }
  return { cpu, mem, devices, total };
}

/**
 * Usage of holding `slots` for `durationMs` (allocation-based billing:
 * what was reserved, not what was busy). `cpu` gives core-ms, `mem` (bytes)
 * gives KiB·ms, every slot ending in `.device` gives device·ms.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { allocationUsage } from "./cost.ts";
 * const u = allocationUsage({ cpu: 2, mem: 1024 ** 3, "cuda.device": 1 }, 1000);
 * assert.ok(u.cpuMs === 2000 && u.memKiBMs === 1024 * 1024 * 1000);
 * assert.ok(u.deviceMs?.["cuda.device"] === 1000);
 * ```
 */
export function allocationUsage(
  slots: ResourceSlots,
  durationMs: number,
): MeteredUsage {
  const d = check("durationMs", durationMs);
  const deviceMs: Record<string, number> = {};
  for (const k in slots) {
    if (k.endsWith(".device")) deviceMs[k] = check(k, slots[k]) * d;
  }
  return {
    cpuMs: check("cpu", slots.cpu ?? 0) * d,
    memKiBMs: check("mem", slots.mem ?? 0) / 1024 * d,
    deviceMs,
  };
}

/** A priced usage interval of one keypair. */
export interface CostRecord {
  /** Keypair the cost is charged to. */
  accessKey: string;
  /** Interval start (ms). */
  startedAt: number;
  /** Interval end (ms); equal to start for an instantaneous charge. */
  endedAt: number;
  /** Cost of the whole interval, assumed spread evenly over it. */
  cost: number;
}

/**
 * Start (ms) of the day containing `now`, in a zone `tzOffsetMinutes` ahead
 * of UTC (e.g. 540 for KST). Days are 24 h; leap seconds do not exist in ms
 * time.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dayStart } from "./cost.ts";
 * assert.ok(dayStart(Date.UTC(2024, 0, 2, 13)) === Date.UTC(2024, 0, 2));
 * assert.ok(dayStart(Date.UTC(2024, 0, 2, 16), 540) === Date.UTC(2024, 0, 2, 15));
 * ```
 */
export function dayStart(now: number, tzOffsetMinutes = 0): number {
  const off = tzOffsetMinutes * 60_000;
  return Math.floor((now + off) / MS_PER_DAY) * MS_PER_DAY - off;
}

/**
 * Cost per keypair within `[from, to)`: each record contributes the share
 * of its cost that overlaps the range (an instantaneous record counts if
 * its time is inside). Keypairs with nothing in range are absent.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { costByKeypair } from "./cost.ts";
 * const day = 86_400_000;
 * const costs = costByKeypair(
 *   [{ accessKey: "AK", startedAt: day - 1000, endedAt: day + 1000, cost: 2 }],
 *   day,
 *   2 * day,
 * );
 * assert.ok(costs.AK === 1);
 * ```
 */
export function costByKeypair(
  records: Iterable<CostRecord>,
  from: number,
  to: number,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of records) {
    check("cost", r.cost);
    let part: number;
    if (r.endedAt <= r.startedAt) {
      if (r.startedAt < from || r.startedAt >= to) continue;
      part = r.cost;
    } else {
      const overlap = Math.min(r.endedAt, to) - Math.max(r.startedAt, from);
      if (overlap <= 0) continue;
      part = r.cost * overlap / (r.endedAt - r.startedAt);
    }
    out[r.accessKey] = (out[r.accessKey] ?? 0) + part;
  }
  return out;
}

/**
 * Today's cost per keypair at `now` (the day in the given zone).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dailyCost } from "./cost.ts";
 * const now = Date.UTC(2024, 0, 2, 12);
 * const c = dailyCost([{ accessKey: "AK", startedAt: now - 1, endedAt: now, cost: 3 }], now);
 * assert.ok(c.AK === 3);
 * ```
 */
export function dailyCost(
  records: Iterable<CostRecord>,
  now: number,
  tzOffsetMinutes = 0,
): Record<string, number> {
  const start = dayStart(now, tzOffsetMinutes);
  return costByKeypair(records, start, start + MS_PER_DAY);
}
