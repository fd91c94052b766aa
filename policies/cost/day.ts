/**
 * The cost day: from one local midnight to the next in a configured IANA
 * time zone (`Asia/Seoul`, `Europe/Berlin`), through `Intl`. A day is 24 h
 * except on daylight-saving changes (23 h or 25 h); where a zone skips
 * midnight itself, the day starts at its first instant.
 *
 * @module
 */

/** Raised for a time zone `Intl` does not know. */
export class InvalidTimeZoneError extends RangeError {
  override readonly name = "InvalidTimeZoneError";
  /** The zone asked for. */
  readonly timeZone: string;
  constructor(timeZone: string) {
    super(`Unknown time zone ${JSON.stringify(timeZone)}`);
    this.timeZone = timeZone;
  }
}

const formats = new Map<string, Intl.DateTimeFormat>();

/** A cached formatter giving numeric wall-clock parts in `timeZone`. */
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formats.get(timeZone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat("en-US", {
        timeZone,
        hourCycle: "h23",
        year: "numeric",
        month: "numeric",
        day: "numeric",
        hour: "numeric",
        minute: "numeric",
        second: "numeric",
      });
    } catch {
      throw new InvalidTimeZoneError(timeZone);
    }
    formats.set(timeZone, f);
  }
  return f;
}

/**
 * Whether `Intl` knows `timeZone` (for validating configuration).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isValidTimeZone } from "./day.ts";
 * assert.ok(isValidTimeZone("Asia/Seoul") && isValidTimeZone("UTC"));
 * assert.ok(!isValidTimeZone("Mars/Olympus"));
 * ```
 */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** Local calendar date and wall-clock time of `t`, as a UTC timestamp. */
function wallClock(t: number, timeZone: string): number {
  const p: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(t)) {
    if (part.type !== "literal") p[part.type] = Number(part.value);
  }
  const ms = ((t % 1000) + 1000) % 1000;
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second, ms);
}

/** Days since the epoch of the local date at `t`. */
function localDay(t: number, timeZone: string): number {
  return Math.floor(wallClock(t, timeZone) / 86_400_000);
}

/** First instant whose local date is `day` (days since the epoch). */
function startOfLocalDay(day: number, timeZone: string): number {
  const midnight = day * 86_400_000;
  // Usual case: shift by the offset found near midnight, twice (the offset
  // at the guess may differ from the one at midnight), then verify.
  let t = midnight - (wallClock(midnight, timeZone) - midnight);
  t = midnight - (wallClock(t, timeZone) - t);
  if (localDay(t, timeZone) === day && localDay(t - 1, timeZone) < day) {
    return t;
  }
  // A transition at or near midnight: search for the first instant of the
  // day (local dates only move forward across a transition).
  let lo = midnight - 30 * 3_600_000, hi = midnight + 30 * 3_600_000;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (localDay(mid, timeZone) >= day) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** One cost day. */
export interface DayWindow {
  /** First instant of the day (ms). */
  start: number;
  /** First instant of the next day (ms): the rollover. */
  end: number;
  /** Its length in hours: 24, or 23/25 on daylight-saving days. */
  hours: number;
  /** Its local date, `YYYY-MM-DD`. */
  date: string;
}

/**
 * The day containing `now` in `timeZone`. Throws
 * {@link InvalidTimeZoneError} for a zone `Intl` does not know.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dayWindow } from "./day.ts";
 * const seoul = dayWindow(Date.UTC(2024, 0, 2, 16), "Asia/Seoul");
 * assert.equal(seoul.start, Date.UTC(2024, 0, 2, 15)); // 00:00 KST
 * assert.equal(seoul.date, "2024-01-03");
 * // The spring-forward day in Berlin has 23 hours.
 * assert.equal(dayWindow(Date.UTC(2024, 2, 31, 12), "Europe/Berlin").hours, 23);
 * ```
 */
export function dayWindow(now: number, timeZone = "UTC"): DayWindow {
  if (!Number.isFinite(now)) throw new RangeError(`Invalid time: ${now}`);
  const day = localDay(now, timeZone);
  let start = startOfLocalDay(day, timeZone);
  let d = day;
  // `now` may sit in a repeated hour that still reads as yesterday's date
  // only if dates moved backwards; guard so that start <= now always.
  if (start > now) start = startOfLocalDay(--d, timeZone);
  const end = startOfLocalDay(d + 1, timeZone);
  return {
    start,
    end,
    hours: (end - start) / 3_600_000,
    date: new Date(d * 86_400_000).toISOString().slice(0, 10),
  };
}

/**
 * Hours from `now` to the next local midnight in `timeZone`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hoursLeftInDay } from "./day.ts";
 * assert.equal(hoursLeftInDay(Date.UTC(2024, 0, 2, 18), "UTC"), 6);
 * ```
 */
export function hoursLeftInDay(now: number, timeZone = "UTC"): number {
  return (dayWindow(now, timeZone).end - now) / 3_600_000;
}

/**
 * `t` as local `HH:MM` in `timeZone` (for messages).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { localTimeOfDay } from "./day.ts";
 * assert.equal(localTimeOfDay(Date.UTC(2024, 0, 2, 12, 5), "Asia/Seoul"), "21:05");
 * ```
 */
export function localTimeOfDay(t: number, timeZone = "UTC"): string {
  const w = new Date(wallClock(t, timeZone));
  const hh = String(w.getUTCHours()).padStart(2, "0");
  const mm = String(w.getUTCMinutes()).padStart(2, "0");
  return `${hh}:${mm}`;
}
