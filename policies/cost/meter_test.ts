import assert from "node:assert/strict";
import {
  accruedCost,
  allocationUsage,
  InvalidUsageError,
  scaleCost,
  usageCost,
} from "./meter.ts";

const HOUR = 3_600_000, GiB = 1024 ** 3;
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
  assert.throws(
    () => usageCost({ cpuMs: 0, memKiBMs: 0, pausedMs: -1 }, prices),
    (e: unknown) => e instanceof InvalidUsageError && e.field === "pausedMs",
  );
  assert.throws(() => allocationUsage({ cpu: 1 }, -5), InvalidUsageError);
  assert.throws(() => allocationUsage({ cpu: 1 }, 5, NaN), InvalidUsageError);
  assert.throws(() => allocationUsage({ cpu: -1 }, 5), InvalidUsageError);
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

Deno.test("a paused session pays memory only", () => {
  const slots = { cpu: 2, mem: 4 * GiB, "cuda.device": 1, "cuda.mem": GiB };
  const u = allocationUsage(slots, HOUR, 3 * HOUR);
  assert.deepEqual(u, {
    cpuMs: 2 * HOUR,
    memKiBMs: 4 * 1024 * 1024 * 4 * HOUR,
    deviceMs: { "cuda.device": HOUR }, // cuda.mem is a size, not metered
    pausedMs: 3 * HOUR,
  });
  const paused = accruedCost(slots, { runningMs: 0, pausedMs: HOUR }, prices);
  close(paused.total, 0.02);
  assert.equal(paused.cpu, 0);
  assert.equal(paused.devices["cuda.device"], 0);
  const c = accruedCost(slots, { runningMs: HOUR, pausedMs: 3 * HOUR }, prices);
  close(c.total, 0.08 + 0.02 * 4 + 2);
});

Deno.test("scaleCost multiplies every meter", () => {
  const c = scaleCost(
    accruedCost({ cpu: 1, "cuda.device": 2 }, { runningMs: HOUR }, prices),
    24,
  );
  close(c.cpu, 0.96);
  close(c.devices["cuda.device"], 96);
  close(c.total, 96.96);
});
