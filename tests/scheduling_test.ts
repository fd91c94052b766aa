/**
 * Scheduling through the real manager with two small agents (1 CPU, 2 GiB
 * each, real processes, real Docker kernels): admission over the resource
 * policy (412 with `data`), placement by capacity, the pending queue and its
 * reasons, a session no agent could ever host refused at once, a pending
 * session starting when another ends, the scheduler kind set per scaling
 * group, and the supervisor tree rebuilding the scheduler after a crash.
 */
import { startCluster, type TestCluster } from "./support/cluster.ts";
import { eventually } from "./support/eventually.ts";
import { assert, assertEquals, assertMatch } from "./support/assert.ts";
import { expectProblem } from "./api_helpers_test.ts";

interface Info {
  sessionId: string;
  status: string;
  statusInfo: string | null;
  agentId: string | null;
}
interface PendingItem {
  sessionId: string;
  code: string;
  reason: string;
}

const SMALL = { cpu: 1, mem: "512m" };

async function enqueue(
  c: TestCluster,
  name: string,
  resources: Record<string, unknown> = SMALL,
): Promise<string> {
  const r = await c.json<{ sessionId: string }>("POST", "/session", {
    image: "python",
    name,
    enqueueOnly: true,
    config: { resources },
  });
  return r.sessionId;
}

const info = (c: TestCluster, name: string) =>
  c.json<Info>("GET", `/session/${name}`);

const statusIs = (c: TestCluster, name: string, status: string) => () =>
  info(c, name).then((i) => i.status === status ? i : undefined);

const pending = (c: TestCluster) =>
  c.json<{ pending: PendingItem[] }>("GET", "/x/admin/scheduler/pending").then(
    (r) => r.pending,
  );

Deno.test({
  name: "scheduling: capacity, pending queue, refusal, supervision",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const c = await startCluster({
      agents: 2,
      agentArgs: () => ["--cpu", "1", "--mem", String(2 * 1024 ** 3)],
      managerEnv: { BAI_DEBUG_HOOKS: "1" },
    });
    try {
      await t.step(
        "admission: a policy's limits answer 412 with data",
        async () => {
          await c.json("PUT", "/x/admin/resource-policies/one-session", {
            maxConcurrentSessions: 1,
            totalResourceSlots: { cpu: 1 },
          });
          const user = await c.newKeypair({ resourcePolicy: "one-session" });
          const body = (name: string, cpu: number) => ({
            image: "python",
            name,
            enqueueOnly: true,
            config: { resources: { cpu, mem: "512m" } },
          });
          const tooBig = await c.api(
            "POST",
            "/session",
            body("adm-big", 2),
            user,
          );
          const problem = await expectProblem(tooBig, 412, "quota-exceeded");
          const data = (problem as unknown as {
            data: { exceeded: { limit: string }[] };
          }).data;
          assert(
            data.exceeded.some((e) => e.limit === "total_resource_slots.cpu"),
            JSON.stringify(problem),
          );
          await c.json("POST", "/session", body("adm-one", 1), user);
          const second = await c.api(
            "POST",
            "/session",
            body("adm-two", 1),
            user,
          );
          const p2 = await expectProblem(second, 412, "quota-exceeded");
          assert(
            JSON.stringify(p2).includes("max_concurrent_sessions"),
            JSON.stringify(p2),
          );
          await c.json("DELETE", "/session/adm-one", undefined, user);
        },
      );

      await t.step(
        "placement respects capacity: one 1-CPU session per agent",
        async () => {
          await enqueue(c, "cap-a");
          await enqueue(c, "cap-b");
          const a = await eventually(
            "cap-a RUNNING",
            statusIs(c, "cap-a", "RUNNING"),
          );
          const b = await eventually(
            "cap-b RUNNING",
            statusIs(c, "cap-b", "RUNNING"),
          );
          assert(a.agentId && b.agentId);
          assert(
            a.agentId !== b.agentId,
            "two 1-CPU sessions on one 1-CPU agent",
          );
        },
      );

      await t.step(
        "a third session waits, and the queue says why",
        async () => {
          const id = await enqueue(c, "cap-c");
          const waiting = await eventually("cap-c considered", async () => {
            const p = (await pending(c)).find((x) => x.sessionId === id);
            return p && p.code !== "not-yet-considered" ? p : undefined;
          });
          assertEquals(waiting.code, "insufficient-resources");
          assert(waiting.reason.length > 0);
          assertEquals((await info(c, "cap-c")).status, "PENDING");
        },
      );

      await t.step(
        "a session no agent could ever host is refused at once",
        async () => {
          const res = await c.api("POST", "/session", {
            image: "python",
            name: "too-big",
            config: { resources: { cpu: 4, mem: "512m" } },
          });
          // Refused by the scheduler (no agent has 4 CPUs), not queued.
          await expectProblem(res, 503, "instance-not-available");
          const row = await info(c, "too-big");
          assertEquals(row.status, "CANCELLED");
          assertMatch(row.statusInfo ?? "", /cpu|capacity/i);
          // Not left in the queue behind the others.
          assert(
            !(await pending(c)).some((p) => p.sessionId === row.sessionId),
          );
          // Enqueued only: the same refusal ends it CANCELLED at once.
          await enqueue(c, "too-big-2", { cpu: 4, mem: "512m" });
          const row2 = await eventually(
            "too-big-2 CANCELLED",
            statusIs(c, "too-big-2", "CANCELLED"),
          );
          assertMatch(row2.statusInfo ?? "", /cpu|capacity/i);
        },
      );

      await t.step(
        "the scheduler crashes; the tree rebuilds its queue",
        async () => {
          const cId = (await info(c, "cap-c")).sessionId;
          const crash = await c.api("POST", "/x/admin/debug/crash/scheduler");
          assertEquals(crash.status, 202, await crash.text());
          // The restarted scheduler learns cap-c again from its SessionActor.
          await eventually("cap-c back in the queue", async () => {
            const p = (await pending(c)).find((x) => x.sessionId === cId);
            return p && p.code === "insufficient-resources" ? p : undefined;
          });
          // And still knows the room is taken: cap-c does not start yet.
          assertEquals((await info(c, "cap-c")).status, "PENDING");
        },
      );

      await t.step("a pending session starts when another ends", async () => {
        const a = await info(c, "cap-a");
        await c.json("DELETE", "/session/cap-a");
        const started = await eventually(
          "cap-c RUNNING",
          statusIs(c, "cap-c", "RUNNING"),
        );
        assertEquals(started.agentId, a.agentId);
      });

      await t.step("the scheduler kind is set per scaling group", async () => {
        const g = await c.json<{ scheduler: string }>(
          "PUT",
          "/x/admin/scaling-groups/default/scheduler",
          { scheduler: "drf" },
        );
        assertEquals(g.scheduler, "drf");
        const groups = await c.json<
          { scalingGroups: { name: string; scheduler: string }[] }
        >(
          "GET",
          "/x/admin/scaling-groups",
        );
        assertEquals(
          groups.scalingGroups.find((x) => x.name === "default")?.scheduler,
          "drf",
        );
        const bad = await c.api(
          "PUT",
          "/x/admin/scaling-groups/default/scheduler",
          { scheduler: "random" },
        );
        await expectProblem(bad, 400, "invalid-api-params");
      });

      await t.step(
        "admin drain: a drained agent takes nothing new",
        async () => {
          const b = await info(c, "cap-b");
          const cc = await info(c, "cap-c");
          await c.json("DELETE", "/session/cap-b");
          const drained = await c.json<{ schedulable: boolean }>(
            "POST",
            `/x/admin/agents/${b.agentId}/drain`,
          );
          assertEquals(drained.schedulable, false);
          const id = await enqueue(c, "cap-d");
          const waiting = await eventually("cap-d considered", async () => {
            const p = (await pending(c)).find((x) => x.sessionId === id);
            return p && p.code !== "not-yet-considered" ? p : undefined;
          });
          assertEquals(
            (await info(c, "cap-d")).status,
            "PENDING",
            waiting.reason,
          );
          await c.json("POST", `/x/admin/agents/${b.agentId}/undrain`);
          const d = await eventually(
            "cap-d RUNNING",
            statusIs(c, "cap-d", "RUNNING"),
          );
          assertEquals(d.agentId, b.agentId);
          assert(d.agentId !== cc.agentId);
        },
      );
    } finally {
      await c.stop();
    }
  },
});

Deno.test({
  name:
    "agent registry: an unknown scaling group is refused with a reason, the registry lives on",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    // The real store (embedded Postgres, real foreign key) and the real
    // registry actor; only the scheduler is a recorder.
    const { openStore } = await import("../actors/manager/store/mod.ts");
    const { storePorts } = await import("../actors/manager/store_ports.ts");
    const { ActorSystem, Actor } = await import("../actors/runtime/mod.ts");
    const { AgentRegistryActor } = await import("../actors/manager/agents.ts");
    const dataDir = await Deno.makeTempDir({ prefix: "registry-test-" });
    await Deno.chmod(dataDir, 0o755);
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (l.addr as Deno.NetAddr).port;
    l.close();
    const store = await openStore({
      dataDir,
      port,
      durable: false,
      log: () => {},
    });
    await store.ensureDefaults();
    const system = new ActorSystem({ nodeId: "manager" });
    const fed: string[][] = [];
    class Recorder extends Actor<{ type: string; agents?: { id: string }[] }> {
      receive(m: { type: string; agents?: { id: string }[] }) {
        if (m.type === "agents") fed.push(m.agents!.map((a) => a.id));
      }
    }
    const scheduler = system.spawn(() => new Recorder(), { name: "sched" });
    // Stand-ins of the agents' actors, so watching them does not fire.
    for (const id of ["stray", "good"]) {
      system.spawn(() => new Recorder(), { name: `agent-${id}` });
    }
    const registry = system.spawn(
      () =>
        new AgentRegistryActor(
          storePorts(store),
          scheduler as never,
          (id) => system.refFor({ node: "manager", path: `/user/agent-${id}` }),
        ),
      { name: "agents" },
    );
    const agentInfo = (id: string, scalingGroup: string) => ({
      id,
      addr: "",
      region: "local",
      scalingGroup,
      architecture: "x86_64",
      version: "test",
      resourceSlots: { cpu: 1, mem: 1 },
      availableSlots: { cpu: 1, mem: 1 },
      images: [],
      computePlugins: {},
      draining: false,
      kernels: [],
      storageHosts: [],
    });
    const errors: string[] = [];
    const original = console.error;
    console.error = (...a: unknown[]) => errors.push(a.join(" "));
    try {
      const refused = await registry.ask<
        { ok: boolean; reason?: string; knownKernels: string[] }
      >({ type: "agent.join", info: agentInfo("stray", "nope") });
      assertEquals(refused.ok, false);
      assertMatch(refused.reason ?? "", /unknown scaling group "nope"/);
      assertEquals(refused.knownKernels, []);
      // Its heartbeats are refused too, quietly (one log line in all).
      registry.tell({
        type: "agent.heartbeat",
        info: agentInfo("stray", "nope"),
      });
      assertEquals(await registry.ask({ type: "get", id: "stray" }), undefined);
      assertEquals(errors.filter((e) => e.includes("stray")).length, 1);
      // The same actor still serves a good agent: it did not crash.
      const ok = await registry.ask<{ ok: boolean }>({
        type: "agent.join",
        info: agentInfo("good", "default"),
      });
      assertEquals(ok.ok, true);
      const list = await registry.ask<{ id: string; status: string }[]>({
        type: "list",
      });
      assertEquals(list.map((a) => [a.id, a.status]), [["good", "ALIVE"]]);
      assert(!fed.some((ids) => ids.includes("stray")));
      // Heartbeats that change nothing the scheduler sees do not feed it;
      // a change of total slots does. (Asks flush the mailboxes in order.)
      await scheduler.ask({ type: "sync" });
      const feeds = fed.length;
      registry.tell({
        type: "agent.heartbeat",
        info: { ...agentInfo("good", "default"), availableSlots: { cpu: 0 } },
      });
      await registry.ask({ type: "list" });
      await scheduler.ask({ type: "sync" });
      assertEquals(fed.length, feeds);
      registry.tell({
        type: "agent.heartbeat",
        info: { ...agentInfo("good", "default"), resourceSlots: { cpu: 2 } },
      });
      await registry.ask({ type: "list" });
      await scheduler.ask({ type: "sync" });
      assertEquals(fed.length, feeds + 1);
      // Once an admin creates the group, the agent's retry gets in.
      await store.scalingGroups.upsert({ name: "nope" });
      const later = await registry.ask<{ ok: boolean }>({
        type: "agent.join",
        info: agentInfo("stray", "nope"),
      });
      assertEquals(later.ok, true);
    } finally {
      console.error = original;
      await system.shutdown({ deadlineMs: 2000 });
      await store.close();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
