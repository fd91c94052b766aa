import assert from "node:assert/strict";
import {
  decideScaleIn,
  type ScalableAgent,
  type ScaleInDecision,
  type ScaleInOptions,
} from "./scale_in.ts";
import { addSlots, fits, subtractSlots, sumSlots } from "./slots.ts";
import { agent, small } from "./_test_util.ts";

const ids = (xs: { agentId: string; reason: string }[]) =>
  xs.map((x) => `${x.agentId}:${x.reason}`);

/**
 * The rules of issue 20, checked on every decision: a protected agent is
 * never stopped by scale-in, a node-protected one never touched, and what
 * scale-in removes as surplus leaves the group its minimum and its target
 * plus room for the sessions of the busy agents that leave.
 */
function assertRules(
  agents: ScalableAgent[],
  o: ScaleInOptions,
  d: ScaleInDecision,
): void {
  const forced = new Set(o.forceStop ?? []);
  const overriding = (id: string) =>
    forced.has(id) || agents.find((a) => a.id === id)?.healthy === false;
  for (const s of d.stop) {
    const a = agents.find((x) => x.id === s.agentId)!;
    if (overriding(a.id)) continue;
    assert.ok(!a.hostsProtectedSessions, `${a.id} hosts protected sessions`);
    assert.ok(!a.protected || a.draining, `${a.id} has node protection`);
  }
  for (const x of d.drain) {
    assert.ok(!agents.find((a) => a.id === x.agentId)!.protected, x.agentId);
  }
  // Every agent is accounted for exactly once.
  const seen = [...d.stop, ...d.drain, ...d.kept].map((x) => x.agentId).sort();
  assert.deepEqual(seen, agents.map((a) => a.id).sort());
  for (const x of [...d.stop, ...d.drain, ...d.kept]) {
    assert.ok(x.detail.length > 0, `${x.agentId} explains itself`);
  }
  if (d.drain.concat(d.stop).some((x) => x.reason === "over-max")) return;
  const removed = new Set([...d.stop, ...d.drain].map((x) => x.agentId));
  const stays = agents.filter((a) =>
    !removed.has(a.id) && !a.draining && a.healthy !== false
  );
  const leaving = agents.filter((a) =>
    (removed.has(a.id) || a.draining) && a.healthy !== false &&
    !overriding(a.id) && !a.hostsProtectedSessions && a.runningKernels > 0
  );
  if (d.drain.concat(d.stop).some((x) => x.reason === "surplus")) {
    assert.ok(stays.length >= (o.minAgents ?? 0), "minAgents kept");
    const free = sumSlots(
      stays.map((a) => subtractSlots(a.capacity, a.occupied)),
    );
    const need = addSlots(
      o.targetFreeCapacity ?? {},
      sumSlots(leaving.map((a) => a.occupied)),
    );
    assert.ok(fits(need, free), `target plus displaced load kept`);
  }
}

interface ScaleInRow {
  name: string;
  agents: ScalableAgent[];
  options?: ScaleInOptions;
  stop?: string[];
  drain?: string[];
  /** `id:reason` of kept agents, when the row is about why they stay. */
  kept?: string[];
}

const ROWS: ScaleInRow[] = [
  {
    name: "issue 20 repro: the busy agent and the spare are both needed",
    agents: [small("A", 1), small("B", 0, { startedAt: 5 })],
    options: { minAgents: 1, maxAgents: 3, targetFreeCapacity: { cpu: 1 } },
    kept: ["B:target-free-capacity", "A:target-free-capacity"],
  },
  {
    name: "issue 20 repro, long after the drain deadline would have passed",
    agents: [small("A", 1), small("B", 0)],
    options: {
      minAgents: 1,
      maxAgents: 3,
      targetFreeCapacity: { cpu: 1 },
      drainDeadlineMs: 10_000,
      now: 10 * 60_000,
    },
    kept: ["B:target-free-capacity", "A:target-free-capacity"],
  },
  {
    name: "repro with a third agent: one idle spare is surplus, busy A is not",
    agents: [small("A", 1), small("B", 0), small("C", 0, { startedAt: 9 })],
    options: { minAgents: 1, maxAgents: 3, targetFreeCapacity: { cpu: 1 } },
    stop: ["B:surplus"],
    kept: ["C:target-free-capacity", "A:target-free-capacity"],
  },
  {
    name: "cold group: a busy agent whose sessions have nowhere to go stays",
    agents: [agent("busy", 2), agent("idle", 0)],
    stop: ["idle:surplus"],
    kept: ["busy:target-free-capacity"],
  },
  {
    name: "cold group: a busy agent is drained when the others hold its load",
    agents: [agent("light", 2), agent("heavy", 6)],
    drain: ["light:surplus"],
    kept: ["heavy:target-free-capacity"],
  },
  {
    name: "cold group: two busy agents that cannot take each other's load",
    agents: [agent("a", 5), agent("b", 6)],
    kept: ["a:target-free-capacity", "b:target-free-capacity"],
  },
  {
    name: "hot group: idle before busy, the target counts the busy load",
    agents: [
      agent("busy", 1),
      agent("i1", 0),
      agent("i2", 0, { startedAt: 3 }),
    ],
    options: { minAgents: 1, targetFreeCapacity: { cpu: 8 } },
    stop: ["i1:surplus"],
    kept: ["i2:target-free-capacity", "busy:target-free-capacity"],
  },
  {
    name: "minAgents: idle ones go first, the last busy one stays",
    agents: [agent("busy", 1), agent("idle", 0)],
    options: { minAgents: 1 },
    stop: ["idle:surplus"],
    kept: ["busy:min-agents"],
  },
  {
    name: "a draining agent's load is room the group must keep",
    agents: [agent("d", 4, { draining: true }), agent("idle", 0)],
    kept: ["d:draining", "idle:target-free-capacity"],
  },
  {
    name: "protected sessions: drained at most, never stopped, even over max",
    agents: [agent("p", 1, { hostsProtectedSessions: true }), agent("i", 0)],
    options: { maxAgents: 0 },
    stop: ["i:over-max"],
    drain: ["p:over-max"],
  },
  {
    name: "protected sessions: past the drain deadline, still not stopped",
    agents: [
      agent("p", 2, {
        draining: true,
        drainingSince: 0,
        hostsProtectedSessions: true,
      }),
      agent("old", 2, { draining: true, drainingSince: 0 }),
      agent("keep", 0),
    ],
    options: { drainDeadlineMs: 5_000, now: 10_000, minAgents: 1 },
    stop: ["old:drain-deadline"],
    kept: ["p:hosts-protected-sessions", "keep:min-agents"],
  },
  {
    name: "protected sessions: their load stays put and needs no room",
    agents: [agent("p", 6, { hostsProtectedSessions: true }), agent("i", 0)],
    stop: ["i:surplus"],
    drain: ["p:surplus"],
  },
  {
    name: "node-level protection: never drained nor stopped, even over max",
    agents: [
      agent("n", 0, { protected: true }),
      agent("m", 3, { protected: true }),
    ],
    options: { maxAgents: 0 },
    kept: ["n:node-protected", "m:node-protected"],
  },
  {
    name: "over max: removes down to max against the free target",
    agents: [agent("a", 2), agent("b", 3), agent("c", 4)],
    options: { maxAgents: 1, minAgents: 1, targetFreeCapacity: { cpu: 100 } },
    drain: ["a:over-max", "b:over-max"],
    kept: ["c:min-agents"],
  },
  {
    name: "forced and unhealthy agents stop whatever they host",
    agents: [
      agent("sick", 4, { healthy: false, protected: true }),
      agent("forced", 4, { hostsProtectedSessions: true, protected: true }),
      agent("keep", 4),
    ],
    options: { forceStop: ["forced"], minAgents: 1 },
    stop: ["sick:unhealthy", "forced:admin-force"],
    kept: ["keep:min-agents"],
  },
  {
    name: "a slot the target names and the agents lack keeps everyone",
    agents: [agent("a", 0), agent("b", 0)],
    options: { targetFreeCapacity: { "cuda.device": 1 } },
    kept: ["a:target-free-capacity", "b:target-free-capacity"],
  },
];

for (const row of ROWS) {
  Deno.test(`scale-in table: ${row.name}`, () => {
    const o = { now: 0, ...row.options };
    const d = decideScaleIn(row.agents, o);
    assert.deepEqual(ids(d.stop), row.stop ?? [], "stop");
    assert.deepEqual(ids(d.drain), row.drain ?? [], "drain");
    if (row.kept) assert.deepEqual(ids(d.kept), row.kept, "kept");
    assertRules(row.agents, o, d);
  });
}

Deno.test("scale-in rules hold over a grid of loads, targets and protections", () => {
  let cases = 0;
  for (const loads of [[0, 0, 0], [1, 0, 0], [4, 4, 0], [8, 2, 0], [3, 3, 3]]) {
    const targets: Record<string, number>[] = [{}, { cpu: 1 }, { cpu: 8 }, {
      cpu: 12,
      mem: 8,
    }];
    for (const target of targets) {
      for (const prot of [0, 1, 2]) {
        for (const min of [0, 1, 2]) {
          const agents = loads.map((l, i) =>
            agent(`a${i}`, l, {
              hostsProtectedSessions: prot === 1 && i === 0 && l > 0,
              protected: prot === 2 && i === 1,
              startedAt: i,
            })
          );
          const o = { minAgents: min, targetFreeCapacity: target, now: 0 };
          assertRules(agents, o, decideScaleIn(agents, o));
          cases++;
        }
      }
    }
  }
  assert.equal(cases, 180);
});

Deno.test("scale-in explains itself in words an operator can read", () => {
  const d = decideScaleIn([small("A", 1), small("B", 0)], {
    minAgents: 1,
    targetFreeCapacity: { cpu: 1 },
  });
  assert.match(
    d.kept.find((k) => k.agentId === "A")!.detail,
    /^needed: without it the group would have cpu 1, mem 2 GiB free, short of the free target of cpu 1 plus room for cpu 1, mem 1 GiB of sessions on agents that would leave$/,
  );
  const w = decideScaleIn(
    [agent("d", 2, { draining: true, drainingSince: 0 })],
    {
      drainDeadlineMs: 30_000,
      now: 10_000,
    },
  );
  assert.equal(
    w.kept[0].detail,
    "draining: 1 kernel left; stopped at the drain deadline in 20 s",
  );
  const s = decideScaleIn([agent("light", 2), agent("heavy", 6)]);
  assert.match(
    s.drain[0].detail,
    /others have room for its sessions; drained: 1 kernel left/,
  );
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
  // Without a deadline a busy draining agent waits for its sessions.
  assert.match(
    d.kept.find((k) => k.agentId === "still")!.detail,
    /no drain deadline/,
  );
});

Deno.test("order among equals: least loaded, then oldest, then id", () => {
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
