import assert from "node:assert/strict";
import {
  addSlots,
  clampSlots,
  exceededSlots,
  fits,
  formatSlots,
  InvalidBinarySizeError,
  InvalidSlotAmountError,
  isSizeSlot,
  normalizeRequestedSlots,
  parseBinarySize,
  ResourceBelowMinimumError,
  subtractSlots,
  sumSlots,
  UnknownSlotError,
  zeroFillSlots,
} from "./slots.ts";

const KiB = 1024, MiB = 1024 ** 2, GiB = 1024 ** 3, TiB = 1024 ** 4;

Deno.test("parseBinarySize: suffixes, case, b/ib, plain bytes, numbers", () => {
  const cases: [string | number, number][] = [
    ["1024", 1024],
    ["0", 0],
    ["512m", 512 * MiB],
    ["512M", 512 * MiB],
    ["1g", GiB],
    ["1.5G", 1.5 * GiB],
    ["2GiB", 2 * GiB],
    ["2gb", 2 * GiB],
    ["4 KiB", 4 * KiB],
    ["1t", TiB],
    ["1p", 1024 ** 5],
    ["100b", 100],
    [" 8k ", 8 * KiB],
    [".5k", 512],
    ["0.3k", 307], // 307.2 rounds down
    [1024, 1024],
    [1.9, 1],
  ];
  for (const [input, want] of cases) {
    assert.equal(parseBinarySize(input), want, String(input));
  }
});

Deno.test("parseBinarySize: bad input is a typed error", () => {
  const bad: unknown[] = [
    "",
    " ",
    "g",
    "1x",
    "1.2.3",
    "-1",
    "1gg",
    "abc",
    "1 g b",
    -5,
    NaN,
    Infinity,
    "99999999999p",
    null,
    {},
  ];
  for (const input of bad) {
    assert.throws(
      () => parseBinarySize(input as string),
      (e: unknown) =>
        e instanceof InvalidBinarySizeError && Object.is(e.input, input),
      String(input),
    );
  }
});

Deno.test("add/subtract/sum treat missing keys as zero and do not mutate", () => {
  const a = { cpu: 1, mem: 10 };
  const b = { cpu: 2, "cuda.device": 1 };
  assert.deepEqual(addSlots(a, b), { cpu: 3, mem: 10, "cuda.device": 1 });
  assert.deepEqual(subtractSlots(a, b), {
    cpu: -1,
    mem: 10,
    "cuda.device": -1,
  });
  assert.deepEqual(a, { cpu: 1, mem: 10 });
  assert.deepEqual(sumSlots([]), {});
  assert.deepEqual(sumSlots([a, b, a]), { cpu: 4, mem: 20, "cuda.device": 1 });
  assert.deepEqual(clampSlots({ cpu: -1, mem: 2 }), { cpu: 0, mem: 2 });
});

Deno.test("zeroFillSlots adds missing keys only", () => {
  assert.deepEqual(zeroFillSlots({ cpu: 1 }, ["cpu", "mem"]), {
    cpu: 1,
    mem: 0,
  });
});

Deno.test("fits: all positive requests must be available, with float slack", () => {
  assert.ok(fits({ cpu: 2, mem: 1024 }, { cpu: 2, mem: 1024 }));
  assert.ok(!fits({ cpu: 2.5 }, { cpu: 2 }));
  assert.ok(!fits({ "cuda.device": 1 }, { cpu: 64 }));
  assert.ok(fits({ "cuda.device": 0 }, { cpu: 64 }));
  assert.ok(fits({}, {}));
  assert.ok(fits({ cpu: 0.3 }, { cpu: 0.1 + 0.2 }));
  assert.ok(fits({ cpu: 0.1 + 0.2 }, { cpu: 0.3 }));
  assert.deepEqual(
    exceededSlots({ cpu: 8, mem: 9, x: 0 }, { cpu: 4, mem: 8 }),
    [
      "cpu",
      "mem",
    ],
  );
});

Deno.test("normalizeRequestedSlots: defaults, strings, null, known slots", () => {
  const image = {
    defaults: { cpu: 1, mem: 256 * MiB, "cuda.device": 0 },
    minimums: { cpu: 1, mem: 128 * MiB },
  };
  assert.deepEqual(normalizeRequestedSlots(undefined, image), image.defaults);
  assert.deepEqual(
    normalizeRequestedSlots(
      { cpu: "2", mem: "1g", "cuda.device": null },
      image,
    ),
    { cpu: 2, mem: GiB, "cuda.device": 0 },
  );
  assert.deepEqual(normalizeRequestedSlots({ mem: 512 * MiB }, {}), {
    mem: 512 * MiB,
  });
  assert.deepEqual(
    normalizeRequestedSlots({ "cuda.mem": "1g" }, {}),
    { "cuda.mem": GiB },
  );
  assert.throws(
    () =>
      normalizeRequestedSlots({ "tpu.device": 1 }, image, {
        knownSlots: ["cpu", "mem", "cuda.device"],
      }),
    (e: unknown) =>
      e instanceof UnknownSlotError && e.slots.join() === "tpu.device",
  );
});

Deno.test("normalizeRequestedSlots: bad amounts and minimums are typed errors", () => {
  const image = { minimums: { cpu: 1, mem: 128 * MiB } };
  for (const cpu of [-1, "abc", "", NaN, Infinity, true]) {
    assert.throws(
      () => normalizeRequestedSlots({ cpu: cpu as number, mem: "1g" }, image),
      (e: unknown) => e instanceof InvalidSlotAmountError && e.slot === "cpu",
      String(cpu),
    );
  }
  assert.throws(
    () => normalizeRequestedSlots({ mem: "lots" }, image),
    InvalidBinarySizeError,
  );
  assert.throws(
    () => normalizeRequestedSlots({ cpu: 0.5, mem: "64m" }, image),
    (e: unknown) =>
      e instanceof ResourceBelowMinimumError &&
      e.shortfalls.length === 2 &&
      e.shortfalls[0].slot === "cpu" && e.shortfalls[0].min === 1 &&
      e.shortfalls[1].requested === 64 * MiB,
  );
});

Deno.test("formatSlots: sizes in binary units, others as numbers, in key order", () => {
  assert.equal(
    formatSlots({ cpu: 1, mem: 2 * GiB, "cuda.device": 1 }),
    "cpu 1, mem 2 GiB, cuda.device 1",
  );
  assert.equal(formatSlots({ mem: 512 * MiB }), "mem 512 MiB");
  assert.equal(formatSlots({ mem: 1000 }), "mem 1000 B");
  assert.equal(formatSlots({ mem: -GiB }), "mem -1 GiB");
  assert.equal(formatSlots({ cpu: 1 / 3 }), "cpu 0.333");
  assert.equal(formatSlots({ cpu: Infinity }), "cpu Infinity");
  assert.equal(formatSlots({}), "nothing");
  assert.ok(isSizeSlot("shared_mem") && !isSizeSlot("memory.device"));
});
