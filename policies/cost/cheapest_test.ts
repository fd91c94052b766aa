import assert from "node:assert/strict";
import { cheapestGroup, type GroupOffer } from "./cheapest.ts";

const GiB = 1024 ** 3;
const offer = (
  group: string,
  cpuCoreHour: number,
  agents: Record<string, number>[],
  deviceHour: Record<string, number> = {},
): GroupOffer => ({
  group,
  prices: { cpuCoreHour, memGiBHour: 0.01, deviceHour },
  agents,
});

Deno.test("cheapest group that fits now wins; the rest are ranked", () => {
  const r = cheapestGroup({ cpu: 2, mem: 4 * GiB }, [
    offer("hot", 0.1, [{ cpu: 8, mem: 32 * GiB }]),
    offer("spot", 0.01, [{ cpu: 1, mem: 32 * GiB }, { cpu: 8, mem: GiB }]), // no single agent fits
    offer("cold", 0.05, [{ cpu: 2, mem: 4 * GiB }]),
  ]);
  assert.equal(r.chosen?.group, "cold");
  assert.ok(Math.abs(r.chosen!.perHour - 0.14) < 1e-12);
  assert.deepEqual(r.quotes.map((q) => [q.group, q.fits]), [
    ["cold", true],
    ["hot", true],
    ["spot", false],
  ]);
});

Deno.test("device prices decide between groups", () => {
  const r = cheapestGroup({ cpu: 1, "cuda.device": 1 }, [
    offer("a100", 0.01, [{ cpu: 8, "cuda.device": 4 }], { "cuda.device": 3 }),
    offer("t4", 0.05, [{ cpu: 8, "cuda.device": 4 }], { "cuda.device": 0.5 }),
    offer("cpu", 0.001, [{ cpu: 64 }]),
  ]);
  assert.equal(r.chosen?.group, "t4");
});

Deno.test("ties: the placement preference, else the order given", () => {
  const offers = [
    offer("b", 0.1, [{ cpu: 4 }]),
    offer("a", 0.1, [{ cpu: 4 }]),
    offer("c", 0.1 + 1e-17, [{ cpu: 4 }]), // equal up to rounding
  ];
  assert.deepEqual(
    cheapestGroup({ cpu: 1 }, offers).quotes.map((q) => q.group),
    ["b", "a", "c"],
  );
  const preferred = ["c", "a", "b"];
  const r = cheapestGroup({ cpu: 1 }, offers, {
    tieBreak: (x, y) => preferred.indexOf(x) - preferred.indexOf(y),
  });
  assert.deepEqual(r.quotes.map((q) => q.group), ["c", "a", "b"]);
});

Deno.test("nothing fits: no choice, quotes still given", () => {
  const r = cheapestGroup({ cpu: 16 }, [
    offer("x", 0.1, [{ cpu: 8 }]),
    offer("y", 0.2, []),
  ]);
  assert.equal(r.chosen, undefined);
  assert.deepEqual(r.quotes.map((q) => q.group), ["x", "y"]);
  assert.deepEqual(cheapestGroup({ cpu: 1 }, []), {
    chosen: undefined,
    quotes: [],
  });
});
