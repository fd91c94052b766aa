/**
 * Usage statistics (`GET /x/usage`, `GET /x/admin/usage`): what sessions
 * used and cost within a date range, per session and per cost day, from
 * their running and paused phases. The figures are the billed ones
 * (allocation: slots held × time, see `meter.ts`), so they add up to what
 * the daily limit counted.
 *
 * @module
 */

import type { ResourceSlots } from "../slots.ts";
import {
  heldWithin,
  type MeterPhase,
  type PricedSession,
  sessionCostWithin,
} from "./daily.ts";
import { dayWindow } from "./day.ts";
import { allocationUsage } from "./meter.ts";

/** Most days one report covers. */
export const MAX_REPORT_DAYS = 400;

/** Usage and cost over some interval. */
export interface UsageFigures {
  /** Milliseconds running (every slot paid). */
  runningMs: number;
  /** Milliseconds paused (memory paid only). */
  pausedMs: number;
  /** CPU core-milliseconds held. */
  cpuMs: number;
  /** Memory KiB·ms held (running and paused). */
  memKiBMs: number;
  /** Unit·ms per device slot. */
  deviceMs: Record<string, number>;
  /** Its price. */
  cost: number;
}

/** Figures of nothing. */
export function emptyFigures(): UsageFigures {
  return {
    runningMs: 0,
    pausedMs: 0,
    cpuMs: 0,
    memKiBMs: 0,
    deviceMs: {},
    cost: 0,
  };
}

/** Adds `b` into `a` (mutates and returns `a`). */
export function addFigures(a: UsageFigures, b: UsageFigures): UsageFigures {
  a.runningMs += b.runningMs;
  a.pausedMs += b.pausedMs;
  a.cpuMs += b.cpuMs;
  a.memKiBMs += b.memKiBMs;
  a.cost += b.cost;
  for (const k in b.deviceMs) {
    a.deviceMs[k] = (a.deviceMs[k] ?? 0) + b.deviceMs[k];
  }
  return a;
}

/**
 * What `session` used and cost inside `[from, to)` (an open phase lasts
 * until `to`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sessionFigures } from "./usage.ts";
 * const f = sessionFigures({
 *   slots: { cpu: 2, mem: 1024 ** 3 },
 *   phases: [{ state: "running", from: 0, to: 1000 }, { state: "paused", from: 1000 }],
 *   prices: { cpuCoreHour: 3600, memGiBHour: 0 },
 * }, 0, 3000);
 * assert.deepEqual([f.runningMs, f.pausedMs, f.cpuMs], [1000, 2000, 2000]);
 * assert.equal(f.cost, 2); // 2 core-seconds at 1 per core-second
 * ```
 */
export function sessionFigures(
  session: PricedSession,
  from: number,
  to: number,
): UsageFigures {
  const phases = closedAt(session.phases, to);
  const held = heldWithin(phases, from, to);
  const u = allocationUsage(
    session.slots as ResourceSlots,
    held.runningMs,
    held.pausedMs,
  );
  return {
    runningMs: held.runningMs,
    pausedMs: held.pausedMs,
    cpuMs: u.cpuMs,
    memKiBMs: u.memKiBMs,
    deviceMs: u.deviceMs ?? {},
    cost: sessionCostWithin({ ...session, phases }, from, to).total,
  };
}

/** Open phases closed at `to` (or at their start when that is later). */
function closedAt(phases: readonly MeterPhase[], to: number): MeterPhase[] {
  return phases.map((p) =>
    p.to === undefined ? { ...p, to: Math.max(p.from, to) } : p
  );
}

/** One cost day of a report. */
export interface DayUsage extends UsageFigures {
  /** Local date, `YYYY-MM-DD`. */
  date: string;
  /** First instant of the day (ms). */
  start: number;
  /** First instant of the next day (ms). */
  end: number;
}

/**
 * Usage per cost day in `timeZone`, for every day that overlaps `[from,
 * to)` (the first and last clipped to the range), days without usage
 * included. Throws RangeError past {@link MAX_REPORT_DAYS} days or when
 * `to < from`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { usageByDay } from "./usage.ts";
 * const day = 86_400_000;
 * const days = usageByDay([{
 *   slots: { cpu: 1 },
 *   phases: [{ state: "running", from: day - 3_600_000, to: day + 3_600_000 }],
 *   prices: { cpuCoreHour: 1, memGiBHour: 0 },
 * }], 0, 2 * day);
 * assert.deepEqual(days.map((d) => [d.date, d.cost]), [["1970-01-01", 1], ["1970-01-02", 1]]);
 * ```
 */
export function usageByDay(
  sessions: readonly PricedSession[],
  from: number,
  to: number,
  timeZone = "UTC",
): DayUsage[] {
  if (!(to >= from)) throw new RangeError("the range ends before it starts");
  // A session still running counts until the report's end, not each day's.
  sessions = sessions.map((s) => ({ ...s, phases: closedAt(s.phases, to) }));
  const out: DayUsage[] = [];
  let t = from;
  while (t < to) {
    if (out.length >= MAX_REPORT_DAYS) {
      throw new RangeError(`a report covers at most ${MAX_REPORT_DAYS} days`);
    }
    const day = dayWindow(t, timeZone);
    const start = Math.max(day.start, from);
    const end = Math.min(day.end, to);
    const figures = emptyFigures();
    for (const s of sessions) {
      addFigures(figures, sessionFigures(s, start, end));
    }
    out.push({ date: day.date, start, end, ...figures });
    t = day.end;
  }
  return out;
}
