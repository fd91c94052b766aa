import assert from "node:assert/strict";
import { lifo } from "./lifo.ts";
import { schedule } from "./schedule.ts";
import type { PendingSession } from "./types.ts";

const sess = (id: string, cpu: number, createdAt: number): PendingSession => ({
  id,
  accessKey: id,
  requestedSlots: { cpu },
  createdAt,
});

Deno.test("lifo: newest first in one queue across keypairs", () => {
  const pending = [sess("new", 1, 3), sess("old", 1, 1), sess("mid", 1, 2)];
  const r = schedule({
    now: 5,
    agents: [{ id: "n", capacity: { cpu: 2 }, occupied: {} }],
    pending,
    options: { order: lifo },
  });
  assert.deepEqual(r.placements.map((p) => p.sessionId), ["new", "mid"]);
  assert.deepEqual(r.waiting.map((w) => w.sessionId), ["old"]);
  assert.equal(lifo.queueOf, undefined);
});
