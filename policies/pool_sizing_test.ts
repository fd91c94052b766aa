import { deepStrictEqual as assertEquals } from "node:assert";
import { poolTargets } from "./pool_sizing.ts";

const MiB = 1 << 20;
const base = {
  floor: {},
  requests: {},
  windowMs: 60_000,
  launchMs: {},
  footprint: {},
  budget: 1024 * MiB,
};

Deno.test("pool sizing: no demand keeps the floor only", () => {
  assertEquals(
    poolTargets({ ...base, floor: { python: 2 }, footprint: { python: MiB } }),
    { python: 2 },
  );
  assertEquals(poolTargets(base), {});
});

Deno.test("pool sizing: an image asked for once keeps one warm", () => {
  assertEquals(
    poolTargets({ ...base, requests: { c: 1 }, footprint: { c: MiB } }),
    { c: 1 },
  );
});

Deno.test("pool sizing: demand times launch time times burst", () => {
  // 20 requests/s, 250 ms per launch, burst 2: 10 containers.
  assertEquals(
    poolTargets({
      ...base,
      requests: { python: 1200 },
      launchMs: { python: 250 },
      footprint: { python: MiB },
    }),
    { python: 10 },
  );
  assertEquals(
    poolTargets({
      ...base,
      requests: { python: 1200 },
      launchMs: { python: 250 },
      footprint: { python: MiB },
      burst: 1,
    }),
    { python: 5 },
  );
});

Deno.test("pool sizing: the budget bounds the total, demand decides the split", () => {
  const out = poolTargets({
    ...base,
    requests: { python: 600, r: 200, c: 10 },
    launchMs: { python: 1000, r: 1000, c: 1000 },
    footprint: { python: 10 * MiB, r: 10 * MiB, c: 10 * MiB },
    budget: 100 * MiB,
  });
  const total = Object.values(out).reduce((a, b) => a + b, 0);
  assertEquals(total, 10, "ten containers of 10 MiB fill 100 MiB");
  // Wanted: python 20, r 7, c 1. Each container goes where it serves the
  // most demand: python's 8th still serves more than c's first.
  assertEquals(out, { python: 8, r: 2 });
});

Deno.test("pool sizing: floors come first within the budget", () => {
  assertEquals(
    poolTargets({
      ...base,
      floor: { bash: 1 },
      requests: { python: 6000 },
      launchMs: { python: 1000 },
      footprint: { python: 10 * MiB, bash: 10 * MiB },
      budget: 30 * MiB,
    }),
    { bash: 1, python: 2 },
  );
});

Deno.test("pool sizing: an image that does not fit gets none, a smaller one still fits", () => {
  assertEquals(
    poolTargets({
      ...base,
      requests: { big: 100, small: 1 },
      footprint: { big: 50 * MiB, small: 5 * MiB },
      budget: 40 * MiB,
    }),
    { small: 1 },
  );
});

Deno.test("pool sizing: a cap per image and no budget at all", () => {
  assertEquals(
    poolTargets({
      ...base,
      requests: { python: 1e6 },
      launchMs: { python: 1000 },
      footprint: { python: 1 },
      maxPerImage: 8,
    }),
    { python: 8 },
  );
  assertEquals(
    poolTargets({ ...base, floor: { python: 3 }, budget: 0 }),
    {},
  );
});
