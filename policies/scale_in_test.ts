import assert from "node:assert/strict";
import {
  decideScaleIn,
  decideScaleOut,
  type ScalableAgent,
} from "./scale_in.ts";

const agent = (
  id: string,
  usedCpu: number,
  extra: Partial<ScalableAgent> = {},
): ScalableAgent => ({
  id,
  capacity: { cpu: 8, mem: 32 },
  occupied: { cpu: usedCpu, mem: usedCpu * 2 },
  runningKernels: usedCpu > 0 ? 1 : 0,
  startedAt: 0,
  ...extra,
});
const ids = (xs: { agentId: string; reason: string }[]) =>
  xs.map((x) => `${x.agentId}:${x.reason}`);

Deno.test("empty agents are stopped, busy ones drained, never stopped", () => {
  const d = decideScaleIn([agent("busy", 2), agent("idle", 0)]);
  assert.deepEqual(ids(d.stop), ["idle:surplus"]);
  assert.deepEqual(ids(d.drain), ["busy:surplus"]);
});

Deno.test("agents hosting protected sessions are drained, never stopped", () => {
  const d = decideScaleIn([
    agent("p", 0, { hostsProtectedSessions: true }),
    agent("q", 2, { hostsProtectedSessions: true }),
  ], { maxAgents: 0 });
  assert.deepEqual(d.stop, []);
  assert.deepEqual(ids(d.drain), ["p:over-max", "q:over-max"]);
  // Unprotected agents go first, busy or not; the protected one stays.
  const d2 = decideScaleIn([
    agent("prot", 1, { hostsProtectedSessions: true }),
    agent("busy", 4),
    agent("idle", 0),
  ], { minAgents: 2 });
  assert.deepEqual(ids(d2.stop), ["idle:surplus"]);
  assert.deepEqual(d2.drain, []);
});

Deno.test("drain deadline stops busy unprotected agents, never protected ones", () => {
  const agents = [
    agent("old", 2, { draining: true, drainingSince: 0 }),
    agent("young", 2, { draining: true, drainingSince: 9_000 }),
    agent("prot", 2, {
      draining: true,
      drainingSince: 0,
      hostsProtectedSessions: true,
    }),
  ];
  const d = decideScaleIn(agents, { drainDeadlineMs: 5_000, now: 10_000 });
  assert.deepEqual(ids(d.stop), ["old:drain-deadline"]);
  // Without a deadline a busy draining agent waits for its sessions.
  assert.deepEqual(decideScaleIn(agents, { now: 10_000 }).stop, []);
});

Deno.test("node-level protection: never drained nor stopped by the autoscaler", () => {
  const d = decideScaleIn([agent("p", 0, { protected: true })], {
    maxAgents: 0,
  });
  assert.deepEqual(d, { drain: [], stop: [] });
});

Deno.test("min bound and target free capacity keep agents", () => {
  const agents = [agent("a", 0), agent("b", 0), agent("c", 4)];
  assert.deepEqual(ids(decideScaleIn(agents, { minAgents: 2 }).stop), [
    "a:surplus",
  ]);
  // Free: a 8, b 8, c 4 = 20 cpu. Keeping 12 free allows removing only one empty agent.
  const d = decideScaleIn(agents, { targetFreeCapacity: { cpu: 12 } });
  assert.deepEqual(ids(d.stop), ["a:surplus"]);
  assert.deepEqual(d.drain, []);
  // Removing a (8) and c (4) leaves 8 free.
  const d2 = decideScaleIn(agents, { targetFreeCapacity: { cpu: 8 } });
  assert.deepEqual(ids(d2.stop), ["a:surplus"]);
  assert.deepEqual(ids(d2.drain), ["c:surplus"]);
});

Deno.test("order: empty first, then least loaded, then oldest", () => {
  const d = decideScaleIn(
    [
      agent("loaded", 6),
      agent("light", 1),
      agent("young", 0, { startedAt: 100 }),
      agent("old", 0, { startedAt: 1 }),
    ],
    { minAgents: 1 },
  );
  assert.deepEqual(ids(d.stop), ["old:surplus", "young:surplus"]);
  assert.deepEqual(ids(d.drain), ["light:surplus"]);
});

Deno.test("over max: removes down to max even against the free target", () => {
  const d = decideScaleIn([agent("a", 2), agent("b", 3), agent("c", 4)], {
    maxAgents: 1,
    minAgents: 1,
    targetFreeCapacity: { cpu: 100 },
  });
  assert.deepEqual(ids(d.drain), ["a:over-max", "b:over-max"]);
});

Deno.test("unhealthy agents and admin force stop whatever they host", () => {
  const d = decideScaleIn(
    [
      agent("sick", 4, { healthy: false, protected: true }),
      agent("forced", 4, { hostsProtectedSessions: true, protected: true }),
      agent("keep", 4),
    ],
    { forceStop: ["forced"], minAgents: 1 },
  );
  assert.deepEqual(ids(d.stop), ["sick:unhealthy", "forced:admin-force"]);
  assert.deepEqual(d.drain, []);
});

Deno.test("draining agents are stopped once empty, not before", () => {
  const d = decideScaleIn(
    [
      agent("done", 0, { draining: true }),
      agent("still", 2, { draining: true }),
      agent("prot", 0, { draining: true, hostsProtectedSessions: true }),
      agent("keep", 0),
    ],
    { minAgents: 1 },
  );
  assert.deepEqual(ids(d.stop), ["done:drained-empty"]);
  assert.deepEqual(d.drain, []);
});

Deno.test("scale out: pending demand packs onto free room, then new agents", () => {
  const d = decideScaleOut({
    agents: [agent("a", 6)], // 2 cpu free
    pending: [{ cpu: 2 }, { cpu: 5 }, { cpu: 5 }, { cpu: 3 }, { cpu: 9 }],
    agentCapacity: { cpu: 8, mem: 32 },
  });
  // 2 -> a; 5 -> new1; 5 -> new2; 3 -> new1 (5+3=8); 9 never fits.
  assert.deepEqual(d, {
    add: 2,
    forPending: 2,
    forTargetFree: 0,
    forMinimum: 0,
    unsatisfiable: 1,
    capped: false,
  });
});

Deno.test("scale out: booting agents count, target free and min bound", () => {
  const d = decideScaleOut({
    agents: [agent("a", 8)],
    pending: [{ cpu: 4 }],
    agentCapacity: { cpu: 8 },
    starting: 1,
    targetFreeCapacity: { cpu: 12, gpu: 1 }, // new agents have no gpu: ignored
  });
  // Booting agent takes the 4; 4 free; need 8 more = 1 agent.
  assert.equal(d.forPending, 0);
  assert.equal(d.forTargetFree, 1);
  assert.equal(d.add, 1);
  const hot = decideScaleOut({
    agents: [],
    pending: [],
    agentCapacity: { cpu: 8 },
    minAgents: 3,
  });
  assert.equal(hot.add, 3);
  assert.equal(hot.forMinimum, 3);
  const cold = decideScaleOut({
    agents: [],
    pending: [],
    agentCapacity: { cpu: 8 },
  });
  assert.equal(cold.add, 0);
});

Deno.test("scale out: capped at max, unhealthy/draining give no room", () => {
  const d = decideScaleOut({
    agents: [
      agent("sick", 0, { healthy: false }),
      agent("drain", 0, { draining: true }),
    ],
    pending: [{ cpu: 8 }, { cpu: 8 }, { cpu: 8 }],
    agentCapacity: { cpu: 8 },
    maxAgents: 4,
  });
  assert.equal(d.forPending, 3);
  assert.equal(d.add, 2);
  assert.ok(d.capped);
});
