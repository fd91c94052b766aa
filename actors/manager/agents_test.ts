/**
 * The agent registry's statuses and drains, with the real registry actor
 * and stand-ins around it: a memory store port, a recorder for the
 * scheduler and the sessions parent, and stand-in agent actors (stopping
 * one delivers `Terminated`, as a node going down does). Against the real
 * store: tests/scheduling_test.ts and tests/scale_in_test.ts.
 */
import { assert, assertEquals } from "../runtime/_test_util.ts";
import { Actor, type ActorRef, ActorSystem } from "../runtime/mod.ts";
import type { AgentInfo } from "../protocol/manager.ts";
import {
  AgentRegistryActor,
  type AgentsMsg,
  type AgentsStorePort,
  type DrainState,
} from "./agents.ts";

class MemoryAgents implements AgentsStorePort {
  rows = new Map<
    string,
    { status: string; statusInfo: string | null; drain: DrainState | null }
  >();
  upsertAgent(info: AgentInfo, status: string, statusInfo: string | null) {
    const r = this.rows.get(info.id) ?? { drain: null } as never;
    this.rows.set(info.id, { ...r, status, statusInfo });
    return Promise.resolve(this.rows.get(info.id)!.drain);
  }
  setAgentDrain(id: string, drain: DrainState | null) {
    const r = this.rows.get(id);
    if (r) r.drain = drain;
    return Promise.resolve();
  }
  liveKernelsOn() {
    return Promise.resolve([]);
  }
}

class Recorder extends Actor<{ type: string; [k: string]: unknown }> {
  constructor(readonly seen: { type: string; [k: string]: unknown }[]) {
    super();
  }
  receive(m: { type: string; [k: string]: unknown }) {
    this.seen.push(m);
    if (m.type === "agent.retired") return 1;
  }
}

const info = (id: string, draining = false): AgentInfo => ({
  id,
  addr: "",
  region: "local",
  scalingGroup: "default",
  architecture: "x86_64",
  version: "test",
  resourceSlots: { cpu: 2 },
  availableSlots: { cpu: 2 },
  images: [],
  computePlugins: {},
  draining,
  kernels: [{
    kernelId: "k1",
    sessionId: "s1",
    containerId: "c1",
    status: "RUNNING",
  }],
  storageHosts: [],
});

interface View {
  status: string;
  statusInfo: string | null;
  schedulable: boolean;
  drain: { by: string; reason: string } | null;
  numKernels: number;
  scaleIn: { action: string; reason: string } | null;
}

function setup() {
  const system = new ActorSystem({ nodeId: "manager" });
  const store = new MemoryAgents();
  const told: { type: string; [k: string]: unknown }[] = [];
  const sessions = system.spawn(() => new Recorder(told), { name: "sess" });
  const scheduler = system.spawn(() => new Recorder(told), { name: "sched" });
  const agents = new Map<string, ActorRef>();
  const agentRef = (id: string) => {
    if (!agents.has(id)) {
      agents.set(id, system.spawn(() => new Recorder(told), { name: id }));
    }
    return agents.get(id)! as never;
  };
  const start = () =>
    system.spawn(
      () =>
        new AgentRegistryActor(store, scheduler as never, agentRef, {
          sessionsPath: sessions.path,
        }),
    ) as ActorRef<AgentsMsg>;
  const get = (r: ActorRef<AgentsMsg>, id: string) =>
    r.ask<View>({ type: "get", id });
  return { system, store, told, agents, start, get };
}

Deno.test("registry: a retired agent shows TERMINATED with the reason, no kernels, and its sessions were told", async () => {
  const t = setup();
  try {
    const r = t.start();
    await r.ask({ type: "agent.join", info: info("a1") });
    assertEquals((await t.get(r, "a1")).numKernels, 1);
    const reason = "agent stopped by an administrator";
    const res = await r.ask<{ sessions: number }>({
      type: "retire",
      id: "a1",
      reason,
      endSessions: true,
    });
    assertEquals(res.sessions, 1);
    assert(
      t.told.some((m) => m.type === "agent.retired" && m.reason === reason),
    );
    // Nothing new lands on it before it is gone.
    const v = await t.get(r, "a1");
    assertEquals([v.status, v.schedulable], ["ALIVE", false]);
    assertEquals(v.statusInfo, `stopping: ${reason}`);
    // The process is killed: its actor goes (Terminated), yet the cause is known.
    await t.system.stop(t.agents.get("a1")!);
    const gone = await until(async () => {
      const g = await t.get(r, "a1");
      return g.status !== "ALIVE" ? g : undefined;
    });
    assertEquals(
      [gone.status, gone.statusInfo, gone.numKernels],
      ["TERMINATED", reason, 0],
    );
    assertEquals(t.store.rows.get("a1")?.status, "TERMINATED");
    assertEquals(t.store.rows.get("a1")?.statusInfo, reason);
    assertEquals(t.store.rows.get("a1")?.drain, null);
  } finally {
    await t.system.shutdown({ deadlineMs: 2_000 });
  }
});

Deno.test("registry: an unannounced disconnect is LOST; a clean leave TERMINATED with the agent's words", async () => {
  const t = setup();
  try {
    const r = t.start();
    await r.ask({ type: "agent.join", info: info("a1") });
    await r.ask({ type: "agent.join", info: info("a2") });
    await t.system.stop(t.agents.get("a1")!);
    const lost = await until(async () => {
      const g = await t.get(r, "a1");
      return g.status !== "ALIVE" ? g : undefined;
    });
    assertEquals([lost.status, lost.numKernels], ["LOST", 0]);
    assert(/connection lost/.test(lost.statusInfo ?? ""));
    r.tell({ type: "agent.leave", id: "a2", reason: "left after draining" });
    const left = await t.get(r, "a2");
    assertEquals([left.status, left.statusInfo], [
      "TERMINATED",
      "left after draining",
    ]);
  } finally {
    await t.system.shutdown({ deadlineMs: 2_000 });
  }
});

Deno.test("registry: who drained an agent survives a stale heartbeat and a manager restart", async () => {
  const t = setup();
  try {
    let r = t.start();
    await r.ask({ type: "agent.join", info: info("a1") });
    await r.ask({ type: "agent.join", info: info("a2") });
    await r.ask({
      type: "drain",
      id: "a1",
      draining: true,
      by: "scale-in",
      reason: "surplus: no free-capacity target",
    });
    // A heartbeat sent before the agent applied the drain does not undo it.
    r.tell({ type: "agent.heartbeat", info: info("a1", false) });
    let v = await t.get(r, "a1");
    assertEquals([v.schedulable, v.drain?.by], [false, "scale-in"]);
    // The agent drains itself (SIGTERM): that drain is the agent's.
    r.tell({ type: "agent.heartbeat", info: info("a2", true) });
    assertEquals((await t.get(r, "a2")).drain?.by, "agent");
    // A new registry (manager restart) reads who drained each from the store.
    await t.system.stop(r);
    r = t.start();
    await r.ask({ type: "agent.join", info: info("a1", true) });
    await r.ask({ type: "agent.join", info: info("a2", true) });
    v = await t.get(r, "a1");
    assertEquals([v.schedulable, v.drain?.by], [false, "scale-in"]);
    assertEquals(
      v.statusInfo,
      "draining (by scale-in): surplus: no free-capacity target",
    );
    assertEquals((await t.get(r, "a2")).drain?.by, "agent");
    // The autoscaler's note shows on the agent.
    r.tell({
      type: "scale-in.notes",
      group: "default",
      notes: [{
        agentId: "a1",
        action: "keep",
        reason: "draining",
        detail: "draining: 1 kernel left",
        at: new Date().toISOString(),
      }],
    });
    assertEquals((await t.get(r, "a1")).scaleIn?.reason, "draining");
    // Undrained: schedulable again, nothing stored.
    await r.ask({ type: "drain", id: "a1", draining: false, by: "scale-in" });
    // A heartbeat from before the undrain is stale, not a SIGTERM drain.
    r.tell({ type: "agent.heartbeat", info: info("a1", true) });
    v = await t.get(r, "a1");
    assertEquals([v.schedulable, v.drain, v.statusInfo], [true, null, null]);
    assertEquals(t.store.rows.get("a1")?.drain, null);
    assert(
      t.told.some((m) => m.type === "agent.drain" && m.draining === false),
      "the agent was told to undrain",
    );
  } finally {
    await t.system.shutdown({ deadlineMs: 2_000 });
  }
});

async function until<T>(check: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + 3_000;
  while (Date.now() < end) {
    const v = await check();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error("timed out");
}
