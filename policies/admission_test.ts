import assert from "node:assert/strict";
import {
  admitSession,
  admitVfolder,
  type KeypairResourcePolicy,
  type KeypairUsage,
  QuotaExceededError,
} from "./admission.ts";

const GiB = 1024 ** 3;
const policy: KeypairResourcePolicy = {
  total_resource_slots: { cpu: 8, mem: 16 * GiB }, // cuda.device missing = unlimited
  max_concurrent_sessions: 3,
  max_containers_per_session: 1,
  idle_timeout: 1800,
  max_session_lifetime: 0,
  max_vfolder_count: 2,
  max_vfolder_size: 10 * GiB,
  daily_cost_limit: 5,
};
const idle: KeypairUsage = {
  concurrent_sessions: 0,
  occupied_slots: {},
  cost_today: 0,
};

Deno.test("admits a request within every limit", () => {
  assert.deepEqual(
    admitSession(policy, idle, {
      slots: { cpu: 8, mem: 16 * GiB, "cuda.device": 100 },
    }),
    { ok: true },
  );
  const used = {
    concurrent_sessions: 2,
    occupied_slots: { cpu: 6 },
    cost_today: 4.9,
  };
  assert.ok(admitSession(policy, used, { slots: { cpu: 2 } }).ok);
});

Deno.test("lists every exceeded limit with requested/used/max", () => {
  const used: KeypairUsage = {
    concurrent_sessions: 3,
    occupied_slots: { cpu: 7, mem: 15 * GiB },
    cost_today: 5,
  };
  const d = admitSession(policy, used, {
    slots: { cpu: 2, mem: 2 * GiB, "cuda.device": 1 },
    containers: 2,
  });
  assert.ok(!d.ok);
  assert.ok(d.error instanceof QuotaExceededError);
  assert.deepEqual(d.error.toProblemData(), {
    exceeded: [
      { limit: "max_concurrent_sessions", requested: 1, used: 3, max: 3 },
      { limit: "max_containers_per_session", requested: 2, used: 0, max: 1 },
      { limit: "total_resource_slots.cpu", requested: 2, used: 7, max: 8 },
      {
        limit: "total_resource_slots.mem",
        requested: 2 * GiB,
        used: 15 * GiB,
        max: 16 * GiB,
      },
      { limit: "daily_cost_limit", requested: 0, used: 5, max: 5 },
    ],
  });
  assert.match(d.error.message, /max_concurrent_sessions/);
});

Deno.test("unlimited: null counts, missing or Infinity slot caps", () => {
  const open: KeypairResourcePolicy = {
    total_resource_slots: { cpu: Infinity },
    max_concurrent_sessions: null,
    max_containers_per_session: null,
    daily_cost_limit: null,
  };
  const used = {
    concurrent_sessions: 10_000,
    occupied_slots: { cpu: 1e9 },
    cost_today: 1e9,
  };
  assert.ok(
    admitSession(open, used, { slots: { cpu: 1e9, mem: 1e15 }, containers: 64 })
      .ok,
  );
});

Deno.test("daily cost: estimated cost counts; a spent budget refuses", () => {
  const used = { ...idle, cost_today: 4 };
  assert.ok(admitSession(policy, used, { slots: {}, estimated_cost: 1 }).ok);
  const d = admitSession(policy, used, { slots: {}, estimated_cost: 1.5 });
  assert.ok(!d.ok);
  assert.deepEqual(d.error.exceeded, [
    { limit: "daily_cost_limit", requested: 1.5, used: 4, max: 5 },
  ]);
  // With the rollover known, the refusal says when the budget comes back.
  const resets = Date.UTC(2024, 0, 3, 15); // 00:00 in Seoul
  const r = admitSession(policy, {
    ...idle,
    cost_today: 5,
    cost_resets_at: resets,
  }, {
    slots: {},
  });
  assert.ok(!r.ok);
  assert.deepEqual(r.error.toProblemData(), {
    exceeded: [{
      limit: "daily_cost_limit",
      requested: 0,
      used: 5,
      max: 5,
      resetsAt: "2024-01-03T15:00:00.000Z",
    }],
  });
});

Deno.test("zero requests never exceed a cap, fractional cpu has slack", () => {
  const used = { ...idle, occupied_slots: { cpu: 7.7 } };
  assert.ok(admitSession(policy, used, { slots: { cpu: 0.1 + 0.2 } }).ok);
  const full = { ...idle, occupied_slots: { cpu: 100 } };
  assert.ok(admitSession(policy, full, { slots: { cpu: 0, mem: 1 } }).ok);
});

Deno.test("vfolders: count and size, 0 = unlimited", () => {
  assert.ok(admitVfolder(policy, { count: 1 }, { quota: 10 * GiB }).ok);
  const d = admitVfolder(policy, { count: 2 }, { quota: 11 * GiB });
  assert.ok(!d.ok);
  assert.deepEqual(d.error.exceeded.map((e) => e.limit), [
    "max_vfolder_count",
    "max_vfolder_size",
  ]);
  const open = {
    total_resource_slots: {},
    max_vfolder_count: 0,
    max_vfolder_size: 0,
  };
  assert.ok(admitVfolder(open, { count: 1e6 }, { quota: 1e15 }).ok);
});
