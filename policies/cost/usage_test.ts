import assert from "node:assert/strict";
import {
  addFigures,
  emptyFigures,
  MAX_REPORT_DAYS,
  sessionFigures,
  usageByDay,
} from "./usage.ts";
import { costToday } from "./daily.ts";

const H = 3_600_000;
const prices = {
  cpuCoreHour: 1,
  memGiBHour: 0.5,
  deviceHour: { "cuda.device": 10 },
};
const session = {
  slots: { cpu: 2, mem: 1024 ** 3, "cuda.device": 1 },
  phases: [
    { state: "running" as const, from: 0, to: H },
    { state: "paused" as const, from: H, to: 3 * H },
  ],
  prices,
};

Deno.test("sessionFigures: running pays every slot, paused memory only", () => {
  const f = sessionFigures(session, 0, 10 * H);
  assert.equal(f.runningMs, H);
  assert.equal(f.pausedMs, 2 * H);
  assert.equal(f.cpuMs, 2 * H);
  assert.equal(f.memKiBMs, 1024 * 1024 * 3 * H);
  assert.deepEqual(f.deviceMs, { "cuda.device": H });
  // cpu 2 + device 10 for the running hour, memory 0.5 × 3 hours.
  assert.ok(Math.abs(f.cost - 13.5) < 1e-9);
  // Clipped to a window: only the paused hour inside it.
  const part = sessionFigures(session, 2 * H, 3 * H);
  assert.equal(part.runningMs, 0);
  assert.ok(Math.abs(part.cost - 0.5) < 1e-9);
});

Deno.test("usageByDay: days split at local midnight, empty days listed, sum matches costToday", () => {
  const zone = "Asia/Seoul"; // UTC+9: local midnight is 15:00 UTC
  const d0 = Date.UTC(2024, 0, 1, 15);
  const s = {
    slots: { cpu: 1 },
    phases: [{ state: "running" as const, from: d0 - H, to: d0 + 2 * H }],
    prices: { cpuCoreHour: 1, memGiBHour: 0 },
  };
  const days = usageByDay([s], d0 - 24 * H, d0 + 48 * H, zone);
  assert.deepEqual(
    days.map((d) => [d.date, d.cost]),
    [["2024-01-01", 1], ["2024-01-02", 2], ["2024-01-03", 0]],
  );
  const today = costToday({ now: d0 + 2 * H, timeZone: zone, sessions: [s] });
  assert.equal(today.total, days[1].cost);
  const total = days.reduce((acc, d) => addFigures(acc, d), emptyFigures());
  assert.equal(total.cost, 3);
});

Deno.test("usageByDay: a session still running counts on its days only", () => {
  const s = {
    slots: { cpu: 1 },
    phases: [{ state: "running" as const, from: 30 * H }],
    prices: { cpuCoreHour: 1, memGiBHour: 0 },
  };
  const days = usageByDay([s], 0, 36 * H);
  assert.deepEqual(days.map((d) => d.cost), [0, 6]);
  assert.equal(sessionFigures(s, 0, 10 * H).cost, 0);
});

Deno.test("usageByDay: a bad or too long range is a RangeError", () => {
  assert.throws(() => usageByDay([], 10, 0), RangeError);
  assert.throws(
    () => usageByDay([], 0, (MAX_REPORT_DAYS + 1) * 24 * H),
    RangeError,
  );
  assert.deepEqual(usageByDay([], 5, 5), []);
});
