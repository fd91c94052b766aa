/**
 * Scheduling through the real manager with two small agents (1 CPU, 2 GiB
 * each, real processes, real Docker kernels): admission over the resource
 * policy (412 with `data`), placement by capacity, the pending queue and its
 * reasons, a session no agent could ever host refused at once, a pending
 * session starting when another ends, the scheduler kind set per scaling
 * group, and the supervisor tree rebuilding the scheduler after a crash.
 */
import { startCluster, type TestCluster } from "./support/cluster.ts";
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

/** Polls `check` until it answers a value (not undefined); no timing is asserted. */
async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 120_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`gave up waiting for ${what}${last ? `: ${last}` : ""}`);
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
          const text = await res.text();
          assert(res.status >= 400, `create answered ${res.status}: ${text}`);
          const row = await info(c, "too-big");
          assertEquals(row.status, "CANCELLED");
          assertMatch(row.statusInfo ?? "", /cpu|capacity/i);
          // Not left in the queue behind the others.
          assert(
            !(await pending(c)).some((p) => p.sessionId === row.sessionId),
          );
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
