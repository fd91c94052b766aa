import assert from "node:assert/strict";
import {
  dayWindow,
  hoursLeftInDay,
  InvalidTimeZoneError,
  isValidTimeZone,
  localTimeOfDay,
} from "./day.ts";

const H = 3_600_000;
const iso = (t: number) => new Date(t).toISOString();

Deno.test("dayWindow: UTC and fixed-offset zones", () => {
  const t = Date.UTC(2024, 5, 1, 23, 30);
  const utc = dayWindow(t);
  assert.deepEqual(utc, {
    start: Date.UTC(2024, 5, 1),
    end: Date.UTC(2024, 5, 2),
    hours: 24,
    date: "2024-06-01",
  });
  const seoul = dayWindow(t, "Asia/Seoul"); // already June 2 there
  assert.equal(iso(seoul.start), "2024-06-01T15:00:00.000Z");
  assert.equal(seoul.date, "2024-06-02");
  const kathmandu = dayWindow(Date.UTC(2024, 0, 1), "Asia/Kathmandu"); // +05:45
  assert.equal(iso(kathmandu.start), "2023-12-31T18:15:00.000Z");
});

Deno.test("dayWindow: the edges belong to the right day", () => {
  const start = Date.UTC(2024, 5, 1, 15); // 00:00 in Seoul
  assert.equal(dayWindow(start, "Asia/Seoul").start, start);
  assert.equal(dayWindow(start - 1, "Asia/Seoul").end, start);
  assert.equal(dayWindow(start + 24 * H - 1, "Asia/Seoul").start, start);
  assert.equal(dayWindow(start + 24 * H, "Asia/Seoul").start, start + 24 * H);
});

Deno.test("dayWindow: daylight-saving days have 23 and 25 hours", () => {
  const spring = dayWindow(Date.UTC(2024, 2, 31, 12), "Europe/Berlin");
  assert.equal(iso(spring.start), "2024-03-30T23:00:00.000Z"); // 00:00 CET
  assert.equal(iso(spring.end), "2024-03-31T22:00:00.000Z"); // 00:00 CEST
  assert.equal(spring.hours, 23);
  const fall = dayWindow(Date.UTC(2024, 9, 27, 1, 30), "Europe/Berlin"); // in the repeated hour
  assert.equal(iso(fall.start), "2024-10-26T22:00:00.000Z");
  assert.equal(iso(fall.end), "2024-10-27T23:00:00.000Z");
  assert.equal(fall.hours, 25);
  assert.equal(
    dayWindow(Date.UTC(2024, 2, 10, 12), "America/New_York").hours,
    23,
  );
  assert.equal(
    dayWindow(Date.UTC(2024, 6, 1), "Australia/Lord_Howe").hours,
    24,
  );
  assert.equal(
    dayWindow(Date.UTC(2024, 9, 6, 12), "Australia/Lord_Howe").hours,
    23.5, // a half-hour shift
  );
});

Deno.test("dayWindow: zones whose clocks skip or repeat midnight itself", () => {
  // Santiago, 2024-09-08: 00:00 jumps to 01:00, so the day starts at 01:00.
  const gap = dayWindow(Date.UTC(2024, 8, 8, 12), "America/Santiago");
  assert.equal(iso(gap.start), "2024-09-08T04:00:00.000Z"); // 01:00 -03
  assert.equal(gap.hours, 23);
  assert.equal(localTimeOfDay(gap.start, "America/Santiago"), "01:00");
  // Santiago, 2024-04-07: 00:00 goes back to 23:00, April 6 has 25 hours.
  assert.equal(
    dayWindow(Date.UTC(2024, 3, 6, 12), "America/Santiago").hours,
    25,
  );
  // Apia skipped 2011-12-30 entirely: the 29th ends where the 31st begins.
  const apia = dayWindow(Date.UTC(2011, 11, 29, 12), "Pacific/Apia");
  assert.equal(apia.end, dayWindow(apia.end, "Pacific/Apia").start);
  assert.equal(dayWindow(apia.end, "Pacific/Apia").date, "2011-12-31");
});

Deno.test("dayWindow: every hour of a year lies in its day, days tile", () => {
  for (const zone of ["Europe/Berlin", "America/Santiago", "Asia/Seoul"]) {
    let prev = dayWindow(Date.UTC(2024, 0, 1), zone);
    for (let t = Date.UTC(2024, 0, 1); t < Date.UTC(2025, 0, 1); t += H) {
      const w = dayWindow(t, zone);
      assert.ok(w.start <= t && t < w.end, `${zone} ${iso(t)}`);
      assert.ok(
        w.start === prev.start || w.start === prev.end,
        `${zone} ${iso(t)}`,
      );
      assert.ok(w.hours >= 23 && w.hours <= 25);
      prev = w;
    }
  }
});

Deno.test("time zones: validation and errors", () => {
  assert.ok(isValidTimeZone("Europe/Berlin"));
  assert.ok(!isValidTimeZone("Europe/Atlantis"));
  assert.ok(!isValidTimeZone(""));
  assert.throws(
    () => dayWindow(0, "Europe/Atlantis"),
    (e: unknown) =>
      e instanceof InvalidTimeZoneError && e.timeZone === "Europe/Atlantis",
  );
  assert.throws(() => dayWindow(NaN), RangeError);
});

Deno.test("hoursLeftInDay and localTimeOfDay", () => {
  assert.equal(hoursLeftInDay(Date.UTC(2024, 0, 2, 18, 30)), 5.5);
  // 02:00 CEST on the fall-back day (it has 25 hours): 23 left.
  assert.equal(hoursLeftInDay(Date.UTC(2024, 9, 27, 0), "Europe/Berlin"), 23);
  assert.equal(hoursLeftInDay(Date.UTC(2024, 9, 26, 22), "Europe/Berlin"), 25);
  assert.equal(localTimeOfDay(Date.UTC(2024, 0, 2, 23, 59), "UTC"), "23:59");
  assert.equal(localTimeOfDay(Date.UTC(2024, 0, 2, 15), "Asia/Seoul"), "00:00");
});
