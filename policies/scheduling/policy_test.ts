import assert from "node:assert/strict";
import { defineSchedulingPolicy, headOrderArbiter } from "./policy.ts";
import { schedule } from "./schedule.ts";
import type { PendingSession } from "./types.ts";

const sess = (
  id: string,
  cpu: number,
  createdAt: number,
  accessKey = "AK",
): PendingSession => ({ id, accessKey, requestedSlots: { cpu }, createdAt });

Deno.test("a new policy is one value: order, queues and default arbiter", () => {
  // Smallest request first, one queue per keypair, no arbiter of its own.
  const smallest = defineSchedulingPolicy({
    name: "smallest-first",
    description: "fewest cpus first",
    compare: (a, b) => a.requestedSlots.cpu - b.requestedSlots.cpu,
    queueOf: (s) => s.accessKey,
  });
  const r = schedule({
    now: 0,
    agents: [{ id: "n", capacity: { cpu: 4 }, occupied: {} }],
    pending: [
      sess("a3", 3, 0, "A"),
      sess("a1", 1, 1, "A"),
      sess("b2", 2, 2, "B"),
    ],
    options: { order: smallest },
  });
  // Heads: A's a1 (1) and B's b2 (2); a1 first, then A's a3 (3) loses to
  // b2 (2); a3 no longer fits and waits.
  assert.deepEqual(r.placements.map((p) => p.sessionId), ["a1", "b2"]);
  assert.deepEqual(r.waiting.map((w) => w.sessionId), ["a3"]);
  assert.throws(() => {
    (smallest as { name: string }).name = "x";
  });
});

Deno.test("headOrderArbiter: by head, ties by key, empty pops undefined", () => {
  const q = (key: string, createdAt: number) => ({
    key,
    head: () => sess(key, 0, createdAt),
  });
  const a = headOrderArbiter((x, y) => x.createdAt - y.createdAt);
  assert.equal(a.pop(), undefined);
  for (const x of [q("c", 2), q("b", 1), q("a", 1)]) a.push(x);
  assert.deepEqual([a.pop()?.key, a.pop()?.key, a.pop()?.key], ["a", "b", "c"]);
  assert.equal(a.pop(), undefined);
});
