import assert from "node:assert/strict";
import { Heap } from "./_heap.ts";

Deno.test("Heap pops in order, whatever the push order", () => {
  const h = new Heap<number>((a, b) => a < b);
  const xs = Array.from({ length: 200 }, (_, i) => (i * 7919) % 211);
  for (const x of xs) h.push(x);
  assert.equal(h.size, 200);
  const out: number[] = [];
  for (let x; (x = h.pop()) !== undefined;) out.push(x);
  assert.deepEqual(out, [...xs].sort((a, b) => a - b));
  assert.equal(h.size, 0);
});
