import assert from "node:assert/strict";
import { decideScaleOut } from "./scale_out.ts";
import { agent, GiB, small } from "./_test_util.ts";

Deno.test("scale out: the issue's repro starts exactly one spare", () => {
  const d = decideScaleOut({
    agents: [small("A", 1)],
    pending: [],
    agentCapacity: { cpu: 1, mem: 2 * GiB },
    minAgents: 1,
    maxAgents: 3,
    targetFreeCapacity: { cpu: 1 },
  });
  assert.equal(d.add, 1);
  assert.equal(d.forTargetFree, 1);
  assert.deepEqual(d.undrain, []);
  // With the spare up, nothing more starts (and decideScaleIn keeps both).
  const after = decideScaleOut({
    agents: [small("A", 1), small("B", 0)],
    pending: [],
    agentCapacity: { cpu: 1, mem: 2 * GiB },
    minAgents: 1,
    maxAgents: 3,
    targetFreeCapacity: { cpu: 1 },
  });
  assert.equal(after.add, 0);
  assert.equal(after.detail, "nothing to do");
});

Deno.test("scale out: pending demand packs onto free room, then new agents", () => {
  const d = decideScaleOut({
    agents: [agent("a", 6)], // 2 cpu free
    pending: [{ cpu: 2 }, { cpu: 5 }, { cpu: 5 }, { cpu: 3 }, { cpu: 9 }],
    agentCapacity: { cpu: 8, mem: 32 },
  });
  // 2 -> a; 5 -> new1; 5 -> new2; 3 -> new1 (5+3=8); 9 never fits.
  assert.deepEqual(
    { ...d, detail: undefined },
    {
      undrain: [],
      add: 2,
      forPending: 2,
      forTargetFree: 0,
      forMinimum: 0,
      unsatisfiable: 1,
      capped: false,
      detail: undefined,
      pendingDetail: undefined,
    },
  );
  assert.equal(
    d.detail,
    "start 2 agents (2 for pending sessions); 1 pending session larger " +
      "than a new agent (cpu 8, mem 32 B)",
  );
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

Deno.test("scale out: a drained agent is undrained before any new agent starts", () => {
  const drained = agent("d", 0, { draining: true });
  const d = decideScaleOut({
    agents: [agent("a", 8), drained],
    pending: [{ cpu: 4 }],
    agentCapacity: { cpu: 8 },
  });
  assert.deepEqual(d.undrain, [{
    agentId: "d",
    detail: "undrained: 1 for pending sessions",
  }]);
  assert.equal(d.add, 0);
  // Two waiting, one undrained agent's room: one more starts.
  const two = decideScaleOut({
    agents: [agent("a", 8), drained],
    pending: [{ cpu: 8 }, { cpu: 8 }],
    agentCapacity: { cpu: 8 },
  });
  assert.deepEqual(two.undrain.map((u) => u.agentId), ["d"]);
  assert.equal(two.add, 1);
  // The roomiest first; one without room is not undrained for demand.
  const pick = decideScaleOut({
    agents: [
      agent("full", 8, { draining: true }),
      agent("half", 4, { draining: true }),
      agent("empty", 0, { draining: true }),
    ],
    pending: [{ cpu: 6 }],
    agentCapacity: { cpu: 8 },
  });
  assert.deepEqual(pick.undrain.map((u) => u.agentId), ["empty"]);
  // ...but for minAgents any agent counts.
  const min = decideScaleOut({
    agents: [agent("full", 8, { draining: true })],
    pending: [],
    agentCapacity: { cpu: 8 },
    minAgents: 1,
  });
  assert.deepEqual(min.undrain.map((u) => u.agentId), ["full"]);
  assert.equal(min.add, 0);
});

Deno.test("scale out: cordoned, node-protected and unhealthy agents are not undrained", () => {
  const d = decideScaleOut({
    agents: [
      agent("cordon", 0, { draining: true, cordoned: true }),
      agent("prot", 0, { draining: true, protected: true }),
      agent("sick", 0, { draining: true, healthy: false }),
    ],
    pending: [{ cpu: 8 }],
    agentCapacity: { cpu: 8 },
  });
  assert.deepEqual(d.undrain, []);
  assert.equal(d.add, 1);
});

Deno.test("scale out: capped at max says so for the pending queue", () => {
  const d = decideScaleOut({
    agents: [
      agent("sick", 0, { healthy: false }),
      agent("drain", 0, { draining: true, cordoned: true }),
    ],
    pending: [{ cpu: 8 }, { cpu: 8 }, { cpu: 8 }],
    agentCapacity: { cpu: 8 },
    maxAgents: 4,
  });
  assert.equal(d.forPending, 3);
  assert.equal(d.add, 2);
  assert.ok(d.capped);
  assert.equal(
    d.detail,
    "start 2 agents (3 for pending sessions); maxAgents 4 reached: 1 more " +
      "agent wanted (3 for pending sessions)",
  );
  assert.equal(
    d.pendingDetail,
    "the scaling group is at maxAgents (4): waiting for room on its agents",
  );
  const none = decideScaleOut({
    agents: [agent("a", 8)],
    pending: [{ cpu: 8 }],
    agentCapacity: { cpu: 8 },
    maxAgents: 1,
  });
  assert.equal(none.add, 0);
  assert.match(none.pendingDetail ?? "", /maxAgents \(1\)/);
});
