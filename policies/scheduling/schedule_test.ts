import assert from "node:assert/strict";
import { schedule } from "./schedule.ts";
import { agent, sess } from "./_test_util.ts";
import type { ScheduleResult } from "./types.ts";

const placed = (r: ScheduleResult) =>
  Object.fromEntries(r.placements.map((p) => [p.sessionId, p.agentId]));

Deno.test("FIFO and LIFO order, strict head-of-line", () => {
  const agents = [agent("n1", { cpu: 4 })];
  const pending = [
    sess("old", { cpu: 3 }, 1),
    sess("mid", { cpu: 3 }, 2),
    sess("new", { cpu: 1 }, 3),
  ];
  const fifo = schedule({ now: 10, agents, pending });
  assert.deepEqual(placed(fifo), { old: "n1" });
  // "mid" does not fit now and blocks "new" although "new" would fit.
  assert.deepEqual(
    fifo.waiting.map((w) => [w.sessionId, w.reason]),
    [["mid", "insufficient-resources"], ["new", "queued-behind"]],
  );
  assert.deepEqual(fifo.retries, { mid: 1 });

  const lifo = schedule({
    now: 10,
    agents,
    pending,
    options: { order: "lifo" },
  });
  assert.deepEqual(lifo.placements.map((p) => p.sessionId), ["new", "mid"]);
  assert.deepEqual(lifo.waiting.map((w) => w.sessionId), ["old"]);
});

Deno.test("numRetriesToSkip: a stuck head moves back after N passes", () => {
  const agents = [agent("n1", { cpu: 4 }, { cpu: 2 })];
  const pending = [sess("big", { cpu: 3 }, 1), sess("small", { cpu: 1 }, 2)];
  const options = { numRetriesToSkip: 2 };
  let retries: Record<string, number> = {};
  for (let pass = 1; pass <= 2; pass++) {
    const r = schedule({ now: 10, agents, pending, options, retries });
    assert.equal(r.placements.length, 0, `pass ${pass}`);
    assert.deepEqual(r.retries, { big: pass });
    retries = r.retries;
  }
  const r3 = schedule({ now: 10, agents, pending, options, retries });
  assert.deepEqual(placed(r3), { small: "n1" });
  assert.deepEqual(r3.waiting.map((w) => w.sessionId), ["big"]);
  assert.deepEqual(r3.retries, { big: 3 });
  // With 0 (default) the head blocks forever.
  const strict = schedule({ now: 10, agents, pending, retries: { big: 99 } });
  assert.equal(strict.placements.length, 0);
});

Deno.test("a session no agent could ever host is refused at once", () => {
  const r = schedule({
    now: 0,
    agents: [
      agent("cpu", { cpu: 64, mem: 256 }),
      agent("gpu", { cpu: 8, mem: 32, "cuda.device": 2 }),
      agent("big-draining", { cpu: 128, mem: 1024, "cuda.device": 8 }, {}, {
        draining: true,
      }),
    ],
    pending: [
      sess("gpu4", { cpu: 1, "cuda.device": 4 }, 0),
      sess("mixed", { cpu: 64, "cuda.device": 1 }, 1), // no single agent has both
      sess("tpu", { "tpu.device": 1 }, 2),
      sess("ok", { cpu: 8, "cuda.device": 2 }, 3),
    ],
  });
  assert.deepEqual(
    r.refused.map((x) => [x.sessionId, x.reason]),
    [
      ["gpu4", "exceeds-agent-capacity"],
      ["mixed", "exceeds-agent-capacity"],
      ["tpu", "exceeds-agent-capacity"],
    ],
  );
  assert.deepEqual(placed(r), { ok: "gpu" });
});

Deno.test("fully occupied but big enough agents: wait, not refuse", () => {
  const r = schedule({
    now: 0,
    agents: [
      agent("n1", { cpu: 4 }, { cpu: 4 }),
      agent("n2", { cpu: 4 }, {}, { schedulable: false }),
    ],
    pending: [sess("s", { cpu: 4 })],
  });
  assert.equal(r.refused.length, 0);
  assert.deepEqual(r.waiting[0].reason, "insufficient-resources");
});

Deno.test("no agents: wait with no-schedulable-agent", () => {
  const r = schedule({ now: 0, agents: [], pending: [sess("s", { cpu: 1 })] });
  assert.deepEqual(r.waiting.map((w) => w.reason), ["no-schedulable-agent"]);
  const d = schedule({
    now: 0,
    agents: [agent("d", { cpu: 4 }, {}, { draining: true })],
    pending: [sess("s", { cpu: 1 })],
  });
  assert.deepEqual(d.waiting.map((w) => w.reason), ["no-schedulable-agent"]);
});

Deno.test("draining and unschedulable agents get nothing", () => {
  const r = schedule({
    now: 0,
    agents: [
      agent("drain", { cpu: 8 }, { cpu: 6 }, { draining: true }),
      agent("cordon", { cpu: 8 }, { cpu: 6 }, { schedulable: false }),
      agent("ok", { cpu: 8 }),
    ],
    pending: [sess("s1", { cpu: 1 }), sess("s2", { cpu: 1 }, 1)],
  });
  assert.deepEqual(placed(r), { s1: "ok", s2: "ok" });
});

Deno.test("bin-pack fills the most loaded agent; spread the least loaded", () => {
  const agents = [
    agent("empty", { cpu: 8, mem: 8 }),
    agent("half", { cpu: 8, mem: 8 }, { cpu: 4, mem: 4 }),
    agent("full", { cpu: 8, mem: 8 }, { cpu: 8, mem: 7 }),
  ];
  const pending = [1, 2, 3, 4].map((i) => sess(`s${i}`, { cpu: 2, mem: 1 }, i));
  const bp = schedule({ now: 0, agents, pending });
  assert.deepEqual(placed(bp), {
    s1: "half",
    s2: "half",
    s3: "empty",
    s4: "empty",
  });
  const sp = schedule({
    now: 0,
    agents,
    pending,
    options: { placement: "spread" },
  });
  // Loads: empty 0 -> .1875 -> .375 (still under half's .5) -> .5625.
  assert.deepEqual(placed(sp), {
    s1: "empty",
    s2: "empty",
    s3: "empty",
    s4: "half",
  });
});

Deno.test("no double-booking: capacity is consumed as the pass places", () => {
  const agents = Array.from(
    { length: 5 },
    (_, i) => agent(`n${i}`, { cpu: 4, mem: 16, "cuda.device": 1 }),
  );
  const pending = Array.from(
    { length: 40 },
    (_, i) =>
      sess(
        `s${i}`,
        i % 3 === 0 ? { cpu: 1, mem: 2, "cuda.device": 1 } : { cpu: 1, mem: 3 },
        i,
      ),
  );
  for (const placement of ["binpack", "spread"] as const) {
    for (const order of ["fifo", "lifo", "drf"] as const) {
      const r = schedule({
        now: 0,
        agents,
        pending,
        options: { order, placement, numRetriesToSkip: 1 },
        retries: { s0: 5 },
      });
      const used: Record<string, Record<string, number>> = {};
      const byId = new Map(pending.map((p) => [p.id, p]));
      for (const p of r.placements) {
        const u = used[p.agentId] ??= {};
        for (
          const [k, v] of Object.entries(byId.get(p.sessionId)!.requestedSlots)
        ) u[k] = (u[k] ?? 0) + v;
      }
      for (const [id, u] of Object.entries(used)) {
        assert.ok(
          u.cpu <= 4 && u.mem <= 16 && (u["cuda.device"] ?? 0) <= 1,
          `${order}/${placement} ${id} ${JSON.stringify(u)}`,
        );
      }
      assert.equal(
        r.placements.length + r.waiting.length + r.refused.length,
        40,
      );
      assert.ok(r.placements.length >= 5, `${order}/${placement}`);
    }
  }
});

Deno.test("invalid requests and pending timeout are refused", () => {
  const r = schedule({
    now: 10_000,
    agents: [agent("n", { cpu: 4 })],
    pending: [
      sess("neg", { cpu: -1 }, 9_000),
      sess("nan", { cpu: NaN }, 9_000),
      sess("old", { cpu: 1 }, 0),
      sess("fresh", { cpu: 1 }, 9_000),
    ],
    options: { pendingTimeoutMs: 10_000 },
  });
  assert.deepEqual(r.refused.map((x) => [x.sessionId, x.reason]), [
    ["neg", "invalid-request"],
    ["nan", "invalid-request"],
    ["old", "pending-timeout"],
  ]);
  assert.deepEqual(placed(r), { fresh: "n" });
});

Deno.test("retries of placed or refused sessions are dropped; blocked keep theirs", () => {
  const r = schedule({
    now: 0,
    agents: [agent("n", { cpu: 2 })],
    pending: [
      sess("a", { cpu: 2 }, 0),
      sess("b", { cpu: 2 }, 1),
      sess("c", { cpu: 1 }, 2),
    ],
    retries: { a: 3, c: 1, gone: 7 },
  });
  assert.deepEqual(placed(r), { a: "n" });
  assert.deepEqual(r.retries, { b: 1, c: 1 });
});

Deno.test("zero-slot requests fit anywhere; empty queue is a no-op", () => {
  const r = schedule({
    now: 0,
    agents: [agent("n", { cpu: 1 }, { cpu: 1 })],
    pending: [sess("z", {})],
  });
  assert.deepEqual(placed(r), { z: "n" });
  assert.deepEqual(schedule({ now: 0, agents: [], pending: [] }), {
    placements: [],
    refused: [],
    waiting: [],
    retries: {},
  });
});

Deno.test("a session with folders goes only where their storage host is mounted", () => {
  const agents = [
    agent("busy-nfs", { cpu: 4 }, { cpu: 1 }, { storageHosts: ["nfs1"] }),
    agent("local-only", { cpu: 4 }, {}, { storageHosts: ["local"] }),
  ];
  const withData = { ...sess("data", { cpu: 1 }), requiredHosts: ["nfs1"] };
  const plain = sess("plain", { cpu: 1 }, 1);
  const r = schedule({ now: 10, agents, pending: [withData, plain] });
  // Bin-packing alone would pick either; the host decides for "data".
  assert.equal(placed(r).data, "busy-nfs");
  assert.ok(placed(r).plain, "a session without folders goes anywhere");

  const blind = schedule({
    now: 10,
    agents,
    pending: [{ ...sess("far", { cpu: 1 }), requiredHosts: ["ceph"] }],
  });
  assert.deepEqual(placed(blind), {});
  assert.deepEqual(
    blind.waiting.map((w) => [w.reason, w.detail]),
    [[
      "storage-host-unreachable",
      "no schedulable agent mounts storage host ceph",
    ]],
  );
});
