/**
 * What a keypair spent today. Today is the cost day in the configured time
 * zone (`day.ts`): it rolls over at local midnight, and a session that
 * spans midnight is split between the two days by time, so the daily limit
 * sees only today's part.
 *
 * Two kinds of input, summed:
 * - **ended usage** as {@link CostRecord}s (a priced interval, its cost
 *   assumed spread evenly over it);
 * - **sessions with phases** ({@link PricedSession}): running or paused
 *   intervals of a session's slots, the last one open while it runs. Exact
 *   across pauses: the running part pays every slot, the paused part
 *   memory only.
 *
 * @module
 */

import type { ResourceSlots } from "../slots.ts";
import { type DayWindow, dayWindow } from "./day.ts";
import {
  accruedCost,
  checkAmount,
  type CostBreakdown,
  type HeldDurations,
} from "./meter.ts";
import type { PriceTable } from "./prices.ts";

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

/** The part of `r`'s cost inside `[from, to)`; undefined when it is outside. */
function partIn(
  r: Omit<CostRecord, "accessKey">,
  from: number,
  to: number,
): number | undefined {
  checkAmount("cost", r.cost);
  if (r.endedAt <= r.startedAt) {
    return r.startedAt >= from && r.startedAt < to ? r.cost : undefined;
  }
  const overlap = Math.min(r.endedAt, to) - Math.max(r.startedAt, from);
  return overlap > 0 ? r.cost * overlap / (r.endedAt - r.startedAt) : undefined;
}

/**
 * Cost per keypair within `[from, to)`: each record contributes the share
 * of its cost that overlaps the range (an instantaneous record counts if
 * its time is inside). Keypairs with nothing in range are absent.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { costByKeypair } from "./daily.ts";
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
    const part = partIn(r, from, to);
    if (part !== undefined) out[r.accessKey] = (out[r.accessKey] ?? 0) + part;
  }
  return out;
}

/**
 * Today's cost per keypair at `now` from records alone (the day in
 * `timeZone`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dailyCost } from "./daily.ts";
 * const now = Date.UTC(2024, 0, 2, 12);
 * const c = dailyCost([{ accessKey: "AK", startedAt: now - 1, endedAt: now, cost: 3 }], now);
 * assert.ok(c.AK === 3);
 * ```
 */
export function dailyCost(
  records: Iterable<CostRecord>,
  now: number,
  timeZone = "UTC",
): Record<string, number> {
  const day = dayWindow(now, timeZone);
  return costByKeypair(records, day.start, day.end);
}

/** A session's state for billing: running pays every slot, paused memory only. */
export type MeterState = "running" | "paused";

/** One interval of a session in one state. */
export interface MeterPhase {
  state: MeterState;
  /** Start (ms). */
  from: number;
  /** End (ms); absent while the session is still in this phase. */
  to?: number;
}

/** A session's slots and its phases, with the prices of its scaling group. */
export interface PricedSession {
  /** Slots held (what is billed). */
  slots: ResourceSlots;
  /** Its running and paused intervals, in any order, not overlapping. */
  phases: readonly MeterPhase[];
  /** Prices of its scaling group. */
  prices: PriceTable;
}

/**
 * Running and paused time of `phases` inside `[from, to)`; an open phase
 * lasts until `to`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { heldWithin } from "./daily.ts";
 * const h = heldWithin([
 *   { state: "running", from: 0, to: 10 },
 *   { state: "paused", from: 10 },
 * ], 5, 30);
 * assert.deepEqual(h, { runningMs: 5, pausedMs: 20 });
 * ```
 */
export function heldWithin(
  phases: readonly MeterPhase[],
  from: number,
  to: number,
): Required<HeldDurations> {
  let runningMs = 0, pausedMs = 0;
  for (const p of phases) {
    const end = p.to ?? to;
    if (!(end >= p.from)) throw new RangeError("phase ends before it starts");
    const overlap = Math.min(end, to) - Math.max(p.from, from);
    if (overlap <= 0) continue;
    if (p.state === "running") runningMs += overlap;
    else pausedMs += overlap;
  }
  return { runningMs, pausedMs };
}

/**
 * What a session cost inside `[from, to)` (an open phase counts up to
 * `to`): a running session's accrued cost so far is `sessionCostWithin(s,
 * createdAt, now)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sessionCostWithin } from "./daily.ts";
 * const c = sessionCostWithin({
 *   slots: { cpu: 1 },
 *   phases: [{ state: "running", from: 0 }],
 *   prices: { cpuCoreHour: 2, memGiBHour: 0 },
 * }, 0, 1_800_000);
 * assert.equal(c.total, 1);
 * ```
 */
export function sessionCostWithin(
  session: PricedSession,
  from: number,
  to: number,
): CostBreakdown {
  return accruedCost(
    session.slots,
    heldWithin(session.phases, from, to),
    session.prices,
  );
}

/** Input of {@link costToday}: one keypair's usage. */
export interface CostTodayInput {
  /** The current time (ms). */
  now: number;
  /**
   * IANA zone whose midnight starts the day.
   * @default {"UTC"}
   */
  timeZone?: string;
  /** Priced intervals of ended sessions (their `accessKey` is not read). */
  ended?: Iterable<Omit<CostRecord, "accessKey">>;
  /** Sessions by phases: running ones, and ended ones kept that way. */
  sessions?: Iterable<PricedSession>;
}

/** A keypair's cost today. */
export interface CostToday {
  /** The day it covers. */
  day: DayWindow;
  /** Today's part of the ended records. */
  ended: number;
  /** Today's part of the sessions by phases, up to `now`. */
  sessions: number;
  /** The sum: what the daily limit is checked against. */
  total: number;
}

/**
 * Today's cost of one keypair: today's part of its ended records plus
 * today's part of its sessions' phases up to `now` (running sessions
 * accrue while they run).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { costToday } from "./daily.ts";
 * const now = Date.UTC(2024, 0, 2, 1); // 01:00 UTC
 * const c = costToday({
 *   now,
 *   // Started at 23:00 yesterday: only the hour since midnight counts.
 *   sessions: [{
 *     slots: { cpu: 1 },
 *     phases: [{ state: "running", from: now - 2 * 3_600_000 }],
 *     prices: { cpuCoreHour: 1, memGiBHour: 0 },
 *   }],
 *   ended: [{ startedAt: now - 1000, endedAt: now, cost: 0.5 }],
 * });
 * assert.ok(c.sessions === 1 && c.ended === 0.5 && c.total === 1.5);
 * ```
 */
export function costToday(input: CostTodayInput): CostToday {
  const day = dayWindow(input.now, input.timeZone ?? "UTC");
  const until = Math.min(input.now, day.end);
  let ended = 0, sessions = 0;
  for (const r of input.ended ?? []) {
    ended += partIn(r, day.start, day.end) ?? 0;
  }
  for (const s of input.sessions ?? []) {
    sessions += sessionCostWithin(s, day.start, until).total;
  }
  return { day, ended, sessions, total: ended + sessions };
}
