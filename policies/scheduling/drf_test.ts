import assert from "node:assert/strict";
import { dominantShare, drf } from "./drf.ts";
import { schedule } from "./schedule.ts";
import { agent, sess } from "./_test_util.ts";
import type { PendingSession } from "./types.ts";

Deno.test("DRF: the paper's example (9 CPU/18 GB; A 1c4g, B 3c1g) gives A 3, B 2", () => {
  const pending: PendingSession[] = [];
  for (let i = 0; i < 10; i++) {
    pending.push(sess(`a${i}`, { cpu: 1, mem: 4 }, i, "A"));
    pending.push(sess(`b${i}`, { cpu: 3, mem: 1 }, i, "B"));
  }
  const r = schedule({
    now: 100,
    agents: [agent("n1", { cpu: 9, mem: 18 })],
    pending,
    options: { order: "drf" },
  });
  const byKey = { A: 0, B: 0 };
  for (const p of r.placements) byKey[p.sessionId[0] === "a" ? "A" : "B"]++;
  assert.deepEqual(byKey, { A: 3, B: 2 });
  assert.equal(r.waiting.length, 15);
  assert.equal(r.refused.length, 0);
  // Same outcome whichever keypair is older.
  const flipped = pending.map((p) => ({
    ...p,
    createdAt: p.accessKey === "B" ? p.createdAt - 100 : p.createdAt,
  }));
  const r2 = schedule({
    now: 100,
    agents: [agent("n1", { cpu: 9, mem: 18 })],
    pending: flipped,
    options: { order: "drf" },
  });
  assert.equal(r2.placements.filter((p) => p.sessionId[0] === "a").length, 3);
  assert.equal(r2.placements.filter((p) => p.sessionId[0] === "b").length, 2);
});

Deno.test("DRF: lowest dominant share first, counting already occupied slots", () => {
  const r = schedule({
    now: 0,
    agents: [agent("n1", { cpu: 10, mem: 10 }, { cpu: 4 })],
    occupiedByKeypair: { HEAVY: { cpu: 4 } },
    pending: [
      sess("h1", { cpu: 2 }, 0, "HEAVY"),
      sess("l1", { cpu: 2 }, 5, "LIGHT"),
      sess("l2", { cpu: 2 }, 6, "LIGHT"),
      sess("h2", { cpu: 2 }, 1, "HEAVY"),
    ],
    options: { order: "drf" },
  });
  // LIGHT (share 0) goes first twice (0 -> .2 -> .4 ties HEAVY's .4, older HEAVY head wins).
  assert.deepEqual(r.placements.map((p) => p.sessionId), ["l1", "l2", "h1"]);
  assert.deepEqual(r.waiting.map((w) => w.sessionId), ["h2"]);
});

Deno.test("dominantShare ignores slots the cluster lacks", () => {
  assert.equal(dominantShare({ cpu: 1, mem: 4 }, { cpu: 9, mem: 18 }), 4 / 18);
  assert.equal(dominantShare({ "cuda.device": 1 }, { cpu: 9 }), 0);
  assert.equal(dominantShare({}, { cpu: 9 }), 0);
});

Deno.test("DRF: the module itself can be passed as the order", () => {
  const r = schedule({
    now: 0,
    agents: [agent("n1", { cpu: 2 })],
    occupiedByKeypair: { A: { cpu: 1 } },
    pending: [sess("a", { cpu: 1 }, 0, "A"), sess("b", { cpu: 1 }, 5, "B")],
    options: { order: drf },
  });
  // B holds nothing, so it goes first although its session is younger.
  assert.deepEqual(r.placements.map((p) => p.sessionId), ["b", "a"]);
});

Deno.test("DRF: one keypair's blocked head does not block another keypair", () => {
  const r = schedule({
    now: 0,
    agents: [agent("n1", { cpu: 4 }, { cpu: 2 })],
    pending: [
      sess("a-big", { cpu: 3 }, 0, "A"), // fits the agent, not its free room
      sess("a-small", { cpu: 1 }, 1, "A"),
      sess("b", { cpu: 1 }, 2, "B"),
    ],
    options: { order: "drf" },
  });
  assert.deepEqual(r.placements.map((p) => p.sessionId), ["b"]);
  assert.deepEqual(r.waiting.map((w) => [w.sessionId, w.reason]), [
    ["a-big", "insufficient-resources"],
    ["a-small", "queued-behind"],
  ]);
});
