import assert from "node:assert/strict";
import {
  allocationUsage,
  costByKeypair,
  dailyCost,
  dayStart,
  InvalidUsageError,
  usageCost,
} from "./cost.ts";

const HOUR = 3_600_000, DAY = 86_400_000, GiB = 1024 ** 3;
const prices = {
  cpuCoreHour: 0.04,
  memGiBHour: 0.005,
  deviceHour: { "cuda.device": 2 },
};
const close = (a: number, b: number) =>
  assert.ok(Math.abs(a - b) < 1e-9, `${a} != ${b}`);

Deno.test("usageCost prices each meter per hour", () => {
  const c = usageCost(
    {
      cpuMs: 4 * HOUR,
      memKiBMs: 8 * 1024 * 1024 * HOUR,
      deviceMs: { "cuda.device": HOUR / 2, "rocm.device": HOUR },
    },
    prices,
  );
  close(c.cpu, 0.16);
  close(c.mem, 0.04);
  close(c.devices["cuda.device"], 1);
  assert.equal(c.devices["rocm.device"], 0); // unpriced device is free
  close(c.total, 1.2);
  assert.deepEqual(usageCost({ cpuMs: 0, memKiBMs: 0 }, prices), {
    cpu: 0,
    mem: 0,
    devices: {},
    total: 0,
  });
});

Deno.test("bad numbers are typed errors", () => {
  assert.throws(
    () => usageCost({ cpuMs: -1, memKiBMs: 0 }, prices),
    InvalidUsageError,
  );
  assert.throws(
    () => usageCost({ cpuMs: 0, memKiBMs: NaN }, prices),
    InvalidUsageError,
  );
  assert.throws(
    () => usageCost({ cpuMs: 0, memKiBMs: 0 }, { ...prices, cpuCoreHour: -1 }),
    (e: unknown) => e instanceof InvalidUsageError && e.field === "cpuCoreHour",
  );
  assert.throws(() => allocationUsage({ cpu: 1 }, -5), InvalidUsageError);
});

Deno.test("allocation usage of 2 cores, 4 GiB, 1 GPU for an hour", () => {
  const u = allocationUsage({ cpu: 2, mem: 4 * GiB, "cuda.device": 1 }, HOUR);
  assert.deepEqual(u, {
    cpuMs: 2 * HOUR,
    memKiBMs: 4 * 1024 * 1024 * HOUR,
    deviceMs: { "cuda.device": HOUR },
  });
  close(usageCost(u, prices).total, 0.08 + 0.02 + 2);
});

Deno.test("dayStart in UTC and other zones", () => {
  const t = Date.UTC(2024, 5, 1, 23, 30);
  assert.equal(dayStart(t), Date.UTC(2024, 5, 1));
  assert.equal(dayStart(t, 540), Date.UTC(2024, 5, 1, 15)); // KST: already June 2
  assert.equal(dayStart(t, -300), Date.UTC(2024, 5, 1, 5)); // UTC-5
  assert.equal(dayStart(Date.UTC(2024, 5, 1)), Date.UTC(2024, 5, 1));
});

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
});
