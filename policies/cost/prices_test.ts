import assert from "node:assert/strict";
import {
  FREE_PRICES,
  isDeviceSlot,
  pricesFor,
  PriceTableSchema,
  PriceTablesSchema,
} from "./prices.ts";

Deno.test("PriceTableSchema accepts a table and fills deviceHour", () => {
  assert.deepEqual(
    PriceTableSchema.parse({
      cpuCoreHour: 0.04,
      memGiBHour: 0,
      deviceHour: { "cuda.device": 2.5, "cuda.shares": 0.3 },
    }),
    {
      cpuCoreHour: 0.04,
      memGiBHour: 0,
      deviceHour: { "cuda.device": 2.5, "cuda.shares": 0.3 },
    },
  );
  assert.deepEqual(
    PriceTableSchema.parse({ cpuCoreHour: 1, memGiBHour: 1 }).deviceHour,
    {},
  );
});

Deno.test("PriceTableSchema refuses negative, NaN, infinite and unknown keys", () => {
  const base = { cpuCoreHour: 1, memGiBHour: 1 };
  const bad: unknown[] = [
    { ...base, cpuCoreHour: -0.01 },
    { ...base, memGiBHour: NaN },
    { ...base, memGiBHour: Infinity },
    { ...base, cpuCoreHour: "1" },
    { cpuCoreHour: 1 }, // memGiBHour missing
    { ...base, gpuHour: 1 }, // unknown key
    { ...base, deviceHour: { "cuda.device": -1 } },
    { ...base, deviceHour: { cpu: 1 } }, // cpu is not a device
    { ...base, deviceHour: { "cuda.mem": 1 } }, // a size, not a device
    { ...base, deviceHour: { "CUDA.device": 1 } },
    { ...base, deviceHour: { "cuda device": 1 } },
    { ...base, deviceHour: [] },
    null,
    [],
  ];
  for (const b of bad) {
    assert.equal(
      PriceTableSchema.safeParse(b).success,
      false,
      JSON.stringify(b),
    );
  }
});

Deno.test("PriceTablesSchema: a table per scaling group", () => {
  const t = PriceTablesSchema.parse({
    hot: { cpuCoreHour: 0.1, memGiBHour: 0.01 },
    cold: { cpuCoreHour: 0.03, memGiBHour: 0.004 },
  });
  assert.equal(t.cold.cpuCoreHour, 0.03);
  assert.deepEqual(t.hot.deviceHour, {});
  assert.equal(
    PriceTablesSchema.safeParse({ hot: { cpuCoreHour: -1, memGiBHour: 0 } })
      .success,
    false,
  );
});

Deno.test("pricesFor reads only the group's own table", () => {
  const tables = { gpu: { cpuCoreHour: 1, memGiBHour: 2 } };
  assert.equal(pricesFor(tables, "gpu"), tables.gpu);
  assert.equal(pricesFor(tables, "toString"), FREE_PRICES);
  assert.equal(pricesFor(tables, "__proto__"), FREE_PRICES);
  const fallback = { cpuCoreHour: 9, memGiBHour: 9 };
  assert.equal(pricesFor(tables, "none", fallback), fallback);
  assert.ok(Object.isFrozen(FREE_PRICES));
});

Deno.test("isDeviceSlot: all but cpu and sizes", () => {
  for (const s of ["cuda.device", "cuda.shares", "rocm.device", "tpu.device"]) {
    assert.ok(isDeviceSlot(s), s);
  }
  for (const s of ["cpu", "mem", "cuda.mem", "shared_mem"]) {
    assert.ok(!isDeviceSlot(s), s);
  }
});
