import assert from "node:assert/strict";
import { fifo } from "./fifo.ts";
import { schedule } from "./schedule.ts";
import type { PendingSession } from "./types.ts";

const sess = (id: string, cpu: number, createdAt: number): PendingSession => ({
  id,
  accessKey: id,
  requestedSlots: { cpu },
  createdAt,
});

Deno.test("fifo: oldest first in one queue across keypairs; the default order", () => {
  const pending = [sess("new", 1, 3), sess("old", 1, 1), sess("mid", 1, 2)];
  const agents = [{ id: "n", capacity: { cpu: 2 }, occupied: {} }];
  const r = schedule({ now: 5, agents, pending, options: { order: fifo } });
  assert.deepEqual(r.placements.map((p) => p.sessionId), ["old", "mid"]);
  assert.deepEqual(r.waiting.map((w) => w.sessionId), ["new"]);
  assert.deepEqual(schedule({ now: 5, agents, pending }), r);
  assert.equal(fifo.queueOf, undefined);
  // Equal times keep the input order.
  assert.equal(fifo.compare(sess("a", 1, 1), sess("b", 1, 1)), 0);
});
