import assert from "node:assert/strict";
import {
  costByKeypair,
  costToday,
  dailyCost,
  heldWithin,
  type PricedSession,
  sessionCostWithin,
} from "./daily.ts";

const HOUR = 3_600_000, DAY = 86_400_000, GiB = 1024 ** 3;
const close = (a: number, b: number) =>
  assert.ok(Math.abs(a - b) < 1e-9, `${a} != ${b}`);
const cpuOnly = { cpuCoreHour: 1, memGiBHour: 0.5 };

Deno.test("records spanning midnight are split by time; instants count once", () => {
  const d = Date.UTC(2024, 0, 2);
  const records = [
    { accessKey: "A", startedAt: d - HOUR, endedAt: d + 3 * HOUR, cost: 4 },
    { accessKey: "A", startedAt: d + HOUR, endedAt: d + HOUR, cost: 0.5 },
    { accessKey: "B", startedAt: d - 2 * HOUR, endedAt: d - HOUR, cost: 9 },
    { accessKey: "C", startedAt: d + DAY, endedAt: d + DAY, cost: 1 }, // tomorrow
  ];
  const today = dailyCost(records, d + 12 * HOUR);
  assert.deepEqual(Object.keys(today), ["A"]);
  close(today.A, 3.5);
  const yesterday = costByKeypair(records, d - DAY, d);
  close(yesterday.A, 1);
  close(yesterday.B, 9);
  assert.deepEqual(dailyCost(records, d + DAY), { C: 1 });
  // In Seoul (UTC+9) the day of d+12h began at d+15h-24h = d-9h: all of
  // A's and B's records are in it.
  const seoul = dailyCost(records, d + 12 * HOUR, "Asia/Seoul");
  close(seoul.A, 4.5);
  close(seoul.B, 9);
});

Deno.test("heldWithin splits phases by state and clips them to the window", () => {
  const phases = [
    { state: "running" as const, from: 0, to: 10 * HOUR },
    { state: "paused" as const, from: 10 * HOUR, to: 12 * HOUR },
    { state: "running" as const, from: 12 * HOUR },
  ];
  assert.deepEqual(heldWithin(phases, 8 * HOUR, 20 * HOUR), {
    runningMs: 10 * HOUR,
    pausedMs: 2 * HOUR,
  });
  assert.deepEqual(heldWithin(phases, 30 * HOUR, 40 * HOUR), {
    runningMs: 10 * HOUR,
    pausedMs: 0,
  });
  assert.deepEqual(heldWithin([], 0, HOUR), { runningMs: 0, pausedMs: 0 });
  assert.throws(
    () => heldWithin([{ state: "running", from: 5, to: 1 }], 0, 10),
    RangeError,
  );
});

Deno.test("a running session accrues while it runs; paused, memory only", () => {
  const s: PricedSession = {
    slots: { cpu: 2, mem: 2 * GiB },
    phases: [
      { state: "running", from: 0, to: HOUR },
      { state: "paused", from: HOUR },
    ],
    prices: cpuOnly,
  };
  close(sessionCostWithin(s, 0, HOUR).total, 3); // 2 cpu + 2 GiB × 0.5
  close(sessionCostWithin(s, 0, 3 * HOUR).total, 3 + 2); // + 2 h of 1/h memory
  close(sessionCostWithin(s, 0, 3 * HOUR).cpu, 2);
});

Deno.test("costToday: ended today + running since midnight, in the zone", () => {
  // 00:30 in Seoul on 2024-01-03 is 15:30 UTC on 2024-01-02.
  const midnight = Date.UTC(2024, 0, 2, 15);
  const now = midnight + HOUR / 2;
  const running: PricedSession = {
    slots: { cpu: 1 },
    phases: [{ state: "running", from: midnight - 2 * HOUR }], // since 22:00
    prices: cpuOnly,
  };
  const c = costToday({
    now,
    timeZone: "Asia/Seoul",
    sessions: [running],
    ended: [
      { startedAt: midnight - HOUR, endedAt: midnight + HOUR / 4, cost: 5 }, // 1/5 today
      { startedAt: midnight - 3 * HOUR, endedAt: midnight - HOUR, cost: 7 }, // yesterday
    ],
  });
  assert.equal(c.day.start, midnight);
  assert.equal(c.day.date, "2024-01-03");
  close(c.sessions, 0.5);
  close(c.ended, 1);
  close(c.total, 1.5);
  // The same instant in UTC: the day began 15.5 h ago.
  const utc = costToday({ now, sessions: [running] });
  close(utc.sessions, 2.5);
});

Deno.test("costToday: a 25-hour day counts 25 hours of a session", () => {
  const now = Date.UTC(2024, 9, 27, 22, 59); // 23:59 CET, fall-back day
  const c = costToday({
    now,
    timeZone: "Europe/Berlin",
    sessions: [{
      slots: { cpu: 1 },
      phases: [{ state: "running", from: now - 30 * HOUR }],
      prices: cpuOnly,
    }],
  });
  assert.equal(c.day.hours, 25);
  close(c.total, 25 - 1 / 60);
});

Deno.test("costToday: sessions ended by phases and nothing at all", () => {
  const now = Date.UTC(2024, 0, 2, 12);
  const c = costToday({
    now,
    sessions: [{
      slots: { cpu: 4 },
      phases: [{ state: "running", from: now - 2 * HOUR, to: now - HOUR }],
      prices: cpuOnly,
    }],
  });
  close(c.total, 4);
  assert.equal(costToday({ now }).total, 0);
});
