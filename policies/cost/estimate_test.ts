import assert from "node:assert/strict";
import { estimate, hourlyCost } from "./estimate.ts";
import { InvalidUsageError } from "./meter.ts";

const GiB = 1024 ** 3;
const prices = {
  cpuCoreHour: 0.04,
  memGiBHour: 0.005,
  deviceHour: { "cuda.device": 2 },
};
const close = (a: number, b: number) =>
  assert.ok(Math.abs(a - b) < 1e-9, `${a} != ${b}`);

Deno.test("estimate: per meter, per hour and per day, running and paused", () => {
  const e = estimate({ cpu: 4, mem: 16 * GiB, "cuda.device": 1 }, prices);
  close(e.perHour.cpu, 0.16);
  close(e.perHour.mem, 0.08);
  close(e.perHour.devices["cuda.device"], 2);
  close(e.perHour.total, 2.24);
  close(e.perDay.total, 2.24 * 24);
  close(e.paused.perHour.total, 0.08);
  assert.equal(e.paused.perHour.cpu, 0);
  close(e.paused.perDay.mem, 0.08 * 24);
  assert.equal(e.hours, 24);
  assert.deepEqual(e.total, e.perDay);
});

Deno.test("estimate: for a number of hours; unpriced slots are free", () => {
  const e = estimate({ cpu: 1, "tpu.device": 8 }, prices, 1.5);
  close(e.total.total, 0.06);
  assert.equal(e.total.devices["tpu.device"], 0);
  assert.equal(estimate({}, prices, 0).total.total, 0);
});

Deno.test("estimate: bad input is a typed error", () => {
  assert.throws(() => estimate({ cpu: -1 }, prices), InvalidUsageError);
  assert.throws(() => estimate({ cpu: 1 }, prices, -1), InvalidUsageError);
  assert.throws(() => estimate({ cpu: 1 }, prices, NaN), InvalidUsageError);
  assert.throws(
    () => estimate({ cpu: 1 }, { ...prices, memGiBHour: Infinity }),
    InvalidUsageError,
  );
});

Deno.test("hourlyCost is the burn rate of either state", () => {
  const slots = { cpu: 2, mem: 2 * GiB, "cuda.device": 2 };
  close(hourlyCost(slots, prices).total, 0.08 + 0.01 + 4);
  close(hourlyCost(slots, prices, "paused").total, 0.01);
});
