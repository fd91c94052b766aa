/**
 * Cost on a real cluster (a manager process, an agent process, Docker,
 * embedded Postgres): a running session accrues cost; 80 % of the daily
 * limit sends the warning event and header; at 100 % new sessions get 412
 * naming the limit and running ones are paused (or terminated under the
 * other action); "maintain" queues a session and starts it once it fits;
 * an idle session is SUSPENDED (its container frozen: Docker reports it
 * paused, its cpu use stops) and the next query resumes it with its
 * interpreter state; a manager restart keeps today's cost and the
 * suspended session.
 *
 * Prices make 1 cpu cost 1 per second (cpuCoreHour 3600) so limits are
 * reached in seconds; the manager checks every second
 * (BAI_SESSION_TICK_MS), so each wait below is a few seconds.
 */
import { startCluster, type TestCluster } from "./support/cluster.ts";
import { assert, assertEquals, assertMatch } from "./support/assert.ts";
import { eventually } from "./support/eventually.ts";
import type { Credentials } from "../routes/cli/sign.ts";

interface Info {
  sessionId: string;
  status: string;
  statusInfo: string | null;
}

interface Today {
  spent: number;
  limit: number | null;
  level: string;
  burnPerHour: number;
}

const info = (c: TestCluster, name: string, creds: Credentials) =>
  c.json<Info>("GET", `/session/${name}`, undefined, creds);

const statusOf = async (c: TestCluster, name: string, creds: Credentials) =>
  (await info(c, name, creds)).status;

const today = async (c: TestCluster, creds: Credentials) =>
  (await c.json<{ today: Today }>("GET", "/x/cost/settings", undefined, creds))
    .today;

const query = (
  c: TestCluster,
  name: string,
  code: string,
  creds: Credentials,
) =>
  c.json<{ result: { status: string; console: [string, string][] } }>(
    "POST",
    `/session/${name}`,
    { mode: "query", code, runId: null },
    creds,
  );

const stdout = (r: { result: { console: [string, string][] } }) =>
  r.result.console.filter(([k]) => k === "stdout").map(([, v]) => v).join("");

async function docker(...args: string[]): Promise<string> {
  const out = await new Deno.Command("docker", { args, stdout: "piped" })
    .output();
  return new TextDecoder().decode(out.stdout).trim();
}

/** The container of a session's kernel (by the kernel-id label the agent sets). */
async function containerOf(sessionId: string) {
  const ids = await docker(
    "ps",
    "-q",
    "--no-trunc",
    "--filter",
    `label=ai.backend.session-id=${sessionId}`,
  );
  return ids.split("\n").filter(Boolean)[0];
}

/**
 * CPU ms the container used over 300 ms, from its cgroup v1 cpuacct counter
 * (the cgroupfs driver's layout, as the agent's meter reads it).
 */
async function cpuDelta(id: string): Promise<number> {
  const file = `/sys/fs/cgroup/cpuacct/docker/${id}/cpuacct.usage`;
  const read = async () => Number(await Deno.readTextFile(file)) / 1e6;
  const a = await read();
  await new Promise((r) => setTimeout(r, 300));
  return await read() - a;
}

/** Reads `GET /events/session` until an event named `name` arrives. */
async function nextEvent(
  c: TestCluster,
  creds: Credentials,
  name: string,
  timeoutMs = 60_000,
): Promise<Record<string, unknown>> {
  const res = await c.api("GET", "/events/session", undefined, creds);
  assertEquals(res.status, 200);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const timer = setTimeout(() => reader.cancel(), timeoutMs);
  let buf = "";
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`no ${name} event within ${timeoutMs} ms`);
      buf += value;
      let i;
      while ((i = buf.indexOf("\n\n")) >= 0) {
        const chunk = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const ev = /^event: (.*)$/m.exec(chunk)?.[1];
        const data = /^data: (.*)$/m.exec(chunk)?.[1];
        if (ev === name && data) return JSON.parse(data);
      }
    }
  } finally {
    clearTimeout(timer);
    await reader.cancel().catch(() => undefined);
  }
}

Deno.test({
  name:
    "cost: live daily limit, maintain, idle pause and resume on a real cluster",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const c = await startCluster({
      agents: 1,
      agentArgs: () => ["--cpu", "8"],
      managerEnv: { BAI_SESSION_TICK_MS: "1000" },
    });
    try {
      await c.json("PUT", "/x/admin/scaling-groups/default/prices", {
        cpuCoreHour: 3600,
        memGiBHour: 0,
      });
      const keypair = async (settings: Record<string, unknown>) => {
        const k = await c.newKeypair();
        await c.json("PUT", "/x/cost/settings", settings, k);
        return k;
      };
      const create = async (name: string, creds: Credentials, extra = {}) => {
        const r = await c.api("POST", "/session", {
          image: "python",
          name,
          config: { resources: { cpu: 1 } },
          ...extra,
        }, creds);
        if (r.status >= 500) {
          throw new Error(`create ${name}: ${await r.text()}`);
        }
        return r;
      };

      await t.step(
        "a running session accrues cost, shown in usage",
        async () => {
          const k = await keypair({ dailyCostLimit: 100_000 });
          assertEquals((await create("accrue", k)).status, 201);
          const first = await today(c, k);
          assertEquals(first.burnPerHour, 3600);
          const later = await eventually("cost to grow", async () => {
            const t2 = await today(c, k);
            return t2.spent >= first.spent + 2 ? t2 : undefined;
          }, 30_000);
          assertEquals(later.level, "ok");
          const usage = await c.json<{
            sessions: { sessionName: string; cost: number; cpuMs: number }[];
            days: { cost: number }[];
            totals: { cost: number };
          }>("GET", "/x/usage", undefined, k);
          assertEquals(usage.sessions.length, 1);
          assertEquals(usage.sessions[0].sessionName, "accrue");
          assert(usage.sessions[0].cpuMs >= 2000, "cpu-ms accrued");
          assert(usage.totals.cost >= 2);
          assertEquals(usage.days.length, 7);
          await c.json("DELETE", "/session/accrue", undefined, k);
          // Ended: its cost stays today's, and stops growing.
          const ended = await today(c, k);
          assert(ended.spent >= later.spent);
          assertEquals(ended.burnPerHour, 0);
        },
      );

      await t.step(
        "80 % warns (event, header); 100 % refuses new sessions and pauses running ones",
        async () => {
          const k = await keypair({ dailyCostLimit: 6 });
          const warning = nextEvent(c, k, "cost_warning");
          const limit = nextEvent(c, k, "cost_limit");
          assertEquals((await create("spender", k)).status, 201);
          const w = await warning;
          assertEquals(w.level, "warn");
          assertEquals(w.accessKey, k.accessKey);
          const res = await c.api("GET", "/x/cost/settings", undefined, k);
          await res.body?.cancel();
          assertMatch(
            res.headers.get("X-BackendAI-Cost-Warning") ?? "",
            /^(warn|limit); spent=/,
          );
          const l = await limit;
          assertEquals(l.level, "limit");
          const paused = await eventually("the session paused", async () => {
            const s = await info(c, "spender", k);
            return s.status === "SUSPENDED" ? s : undefined;
          }, 30_000);
          assertMatch(
            paused.statusInfo ?? "",
            /^paused: today's cost .* daily cost limit 6\.00/,
          );
          const refused = await create("another", k);
          assertEquals(refused.status, 412);
          const problem = await refused.json();
          assertMatch(problem.type, /quota-exceeded$/);
          assertEquals(problem.data.exceeded[0].limit, "daily_cost_limit");
          assertEquals(problem.data.exceeded[0].max, 6);
          assert(problem.data.exceeded[0].resetsAt, "names when it resets");
          // A paused session does not resume past the limit either.
          const blocked = await c.api("POST", "/session/spender", {
            mode: "query",
            code: "1",
            runId: null,
          }, k);
          assertEquals(blocked.status, 412);
          await blocked.body?.cancel();
          assertEquals(await statusOf(c, "spender", k), "SUSPENDED");
          const header = (await c.api("GET", "/session/spender", undefined, k))
            .headers.get("X-BackendAI-Cost-Warning");
          assertMatch(header ?? "", /^limit; /);
          await c.json("DELETE", "/session/spender", undefined, k);
        },
      );

      await t.step(
        "under action terminate the limit ends running sessions",
        async () => {
          const k = await keypair({ dailyCostLimit: 3, action: "terminate" });
          assertEquals((await create("doomed", k)).status, 201);
          const s = await eventually("the session terminated", async () => {
            const s = await info(c, "doomed", k);
            return s.status === "TERMINATED" ? s : undefined;
          }, 30_000);
          assertMatch(s.statusInfo ?? "", /^terminated: today's cost/);
        },
      );

      await t.step(
        "maintain queues a session whose projection passes the limit, starts it when it fits",
        async () => {
          // One session burning until midnight fits, two do not.
          const now = Date.now();
          const midnight = new Date(now).setUTCHours(24, 0, 0, 0);
          const hoursLeft = (midnight - now) / 3_600_000;
          const k = await keypair({
            dailyCostLimit: Math.ceil(3600 * hoursLeft * 1.5) + 60,
            maintain: true,
          });
          assertEquals((await create("first", k)).status, 201);
          const queued = await create("second", k, { enqueueOnly: true });
          assertEquals(queued.status, 201);
          const second = await queued.json();
          assertEquals(second.status, "PENDING");
          const pending = await eventually("the pending reason", async () => {
            const p = await c.json<
              { pending: { sessionId: string; code: string; reason: string }[] }
            >(
              "GET",
              "/x/admin/scheduler/pending",
            );
            return p.pending.find((x) => x.sessionId === second.sessionId);
          }, 10_000);
          assertEquals(pending.code, "cost-budget");
          assertMatch(
            (await info(c, "second", k)).statusInfo ?? "",
            /waiting for the daily cost budget/,
          );
          assertMatch(pending.reason, /waiting for the daily cost budget/);
          await new Promise((r) => setTimeout(r, 2_500));
          assertEquals(await statusOf(c, "second", k), "PENDING");
          // The first ends: the projection with the second fits again.
          await c.json("DELETE", "/session/first", undefined, k);
          await eventually(
            "the second to start",
            async () =>
              (await statusOf(c, "second", k)) === "RUNNING" ? true : undefined,
            60_000,
          );
          await c.json("DELETE", "/session/second", undefined, k);
        },
      );

      await t.step(
        "prices, estimates and settings: validated, 4xx for bad input",
        async () => {
          const user = await c.newKeypair();
          const bad = async (
            method: string,
            path: string,
            body: unknown,
            status: number,
            creds?: Credentials,
          ) => {
            const r = await c.api(method, path, body, creds);
            const text = await r.text();
            assertEquals(r.status, status, `${method} ${path}: ${text}`);
            assertMatch(r.headers.get("content-type") ?? "", /problem\+json/);
          };
          const prices = "/x/admin/scaling-groups/default/prices";
          await bad("PUT", prices, { cpuCoreHour: -1, memGiBHour: 0 }, 400);
          await bad(
            "PUT",
            prices,
            { cpuCoreHour: 1, memGiBHour: 0, gpu: 2 },
            400,
          );
          await bad(
            "PUT",
            prices,
            { cpuCoreHour: 1, memGiBHour: 0 },
            403,
            user,
          );
          await bad("PUT", "/x/admin/scaling-groups/nope/prices", {
            cpuCoreHour: 1,
            memGiBHour: 0,
          }, 404);
          const got = await c.json<{ prices: { cpuCoreHour: number } }>(
            "GET",
            prices,
          );
          assertEquals(got.prices.cpuCoreHour, 3600);
          await bad(
            "POST",
            "/x/cost/estimate",
            { resources: { cpu: -1 } },
            400,
          );
          await bad("POST", "/x/cost/estimate", { resources: { tpu: 1 } }, 400);
          await bad("POST", "/x/cost/estimate", {
            resources: { cpu: 1 },
            extra: 1,
          }, 400);
          await bad("POST", "/x/cost/estimate", {
            resources: { cpu: 1 },
            scalingGroup: "nope",
          }, 404);
          await bad(
            "PUT",
            "/x/cost/settings",
            { timeZone: "Mars/Olympus" },
            400,
            user,
          );
          await bad(
            "PUT",
            "/x/cost/settings",
            { action: "explode" },
            400,
            user,
          );
          await bad("GET", "/x/usage?from=yesterday", undefined, 400, user);
          await bad("GET", "/x/admin/usage", undefined, 403, user);
          // A keypair may lower its policy's limit, never raise it.
          await c.json("PUT", "/x/admin/resource-policies/capped", {
            dailyCostLimit: 50,
          });
          const capped = await c.newKeypair({ resourcePolicy: "capped" });
          await bad(
            "PUT",
            "/x/cost/settings",
            { dailyCostLimit: 60 },
            400,
            capped,
          );
          const set = await c.json<{
            dailyCostLimit: number;
            effectiveDailyCostLimit: number;
            policyDailyCostLimit: number;
            timeZone: string;
          }>("PUT", "/x/cost/settings", {
            dailyCostLimit: 20,
            timeZone: "Asia/Seoul",
          }, capped);
          assertEquals(
            [
              set.dailyCostLimit,
              set.policyDailyCostLimit,
              set.effectiveDailyCostLimit,
            ],
            [20, 50, 20],
          );
          assertEquals(set.timeZone, "Asia/Seoul");
          const e = await c.json<{
            cheapest: {
              scalingGroup: string;
              perHour: { cpu: number; total: number };
              perDay: { total: number };
              paused: { perHour: { total: number } };
            };
            named: { scalingGroup: string };
          }>("POST", "/x/cost/estimate", {
            resources: { cpu: 2, mem: "1g" },
            scalingGroup: "default",
            hours: 2,
          }, user);
          assertEquals(e.cheapest.scalingGroup, "default");
          assertEquals(e.cheapest.perHour.cpu, 7200);
          assertEquals(e.cheapest.perDay.total, 7200 * 24);
          assertEquals(e.cheapest.paused.perHour.total, 0);
          assertEquals(e.named.scalingGroup, "default");
          const admin = await c.json<
            { keypairs: { accessKey: string; cost: number }[] }
          >(
            "GET",
            "/x/admin/usage",
          );
          assert(admin.keypairs.length >= 3, "spenders listed");
          assert(admin.keypairs[0].cost >= admin.keypairs.at(-1)!.cost);
        },
      );

      await t.step(
        "a session that names no group goes to the cheapest with room",
        async () => {
          await c.json("PUT", "/x/admin/scaling-groups/spot", {});
          await c.json("PUT", "/x/admin/scaling-groups/spot/prices", {
            cpuCoreHour: 1,
            memGiBHour: 0,
          });
          const agent = await c.startAgent(undefined, [
            "--scaling-group",
            "spot",
            "--cpu",
            "2",
          ]);
          const k = await c.newKeypair();
          await eventually("spot to be cheapest with room", async () => {
            const e = await c.json<
              { cheapest: { scalingGroup: string } | null }
            >(
              "POST",
              "/x/cost/estimate",
              { resources: { cpu: 1 } },
              k,
            );
            return e.cheapest?.scalingGroup === "spot" ? true : undefined;
          }, 20_000);
          assertEquals((await create("frugal", k)).status, 201);
          const s = await c.json<{ scalingGroup: string; agentId: string }>(
            "GET",
            "/session/frugal",
            undefined,
            k,
          );
          assertEquals([s.scalingGroup, s.agentId], ["spot", agent.id]);
          // Named, it stays where it was asked to run.
          assertEquals(
            (await create("named", k, {
              config: { resources: { cpu: 1 }, scalingGroup: "default" },
            })).status,
            201,
          );
          assertEquals(
            (await c.json<{ scalingGroup: string }>(
              "GET",
              "/session/named",
              undefined,
              k,
            ))
              .scalingGroup,
            "default",
          );
          await c.json("DELETE", "/session/frugal", undefined, k);
          await c.json("DELETE", "/session/named", undefined, k);
          await c.killAgent(agent.id);
          await eventually("the spot agent gone", async () => {
            const { agents } = await c.json<
              { agents: { id: string; status: string }[] }
            >("GET", "/x/admin/agents");
            const a = agents.find((x) => x.id === agent.id);
            return a?.status !== "ALIVE" ? true : undefined;
          }, 30_000);
        },
      );

      const idle = await keypair({ idlePauseSeconds: 2 });
      let sessionId = "";
      await t.step(
        "an idle session is SUSPENDED: its container frozen, its cpu stopped; a query resumes it",
        async () => {
          const res = await create("napper", idle);
          assertEquals(res.status, 201);
          sessionId = (await res.json()).sessionId;
          // x, and a thread that burns cpu while nobody runs anything.
          const r = await query(
            c,
            "napper",
            "import threading\nx = 42\ndef burn():\n    while True:\n        pass\nthreading.Thread(target=burn, daemon=True).start()",
            idle,
          );
          assertEquals(r.result.status, "finished");
          const id = await containerOf(sessionId);
          assert(id, "the kernel's container");
          // Running, the thread burns cpu (the cgroup's counter grows).
          assert(await cpuDelta(id) > 50, "cpu used while running");
          const s = await eventually("the session paused", async () => {
            const s = await info(c, "napper", idle);
            return s.status === "SUSPENDED" ? s : undefined;
          }, 30_000);
          assertMatch(s.statusInfo ?? "", /idle/);
          // SUSPENDED is stored first; the agent's freeze follows at once.
          await eventually(
            "Docker to report the container paused",
            async () => {
              const paused = await docker(
                "inspect",
                "-f",
                "{{.State.Paused}}",
                id,
              );
              if (paused === "true") return true;
              const now = await info(c, "napper", idle);
              throw new Error(
                `not paused; session ${now.status}: ${now.statusInfo}`,
              );
            },
            10_000,
          );
          assertEquals(await cpuDelta(id), 0, "no cpu while paused");
          // Paused, it pays memory only (free here): no cpu burn.
          assertEquals((await today(c, idle)).burnPerHour, 0);
          const back = await query(c, "napper", "print(x)", idle);
          assertEquals(stdout(back).trim(), "42");
          assertEquals(await statusOf(c, "napper", idle), "RUNNING");
          assertEquals(
            await docker("inspect", "-f", "{{.State.Paused}}", id),
            "false",
          );
          assert(await cpuDelta(id) > 50, "the thread runs again");
          // It pauses again once idle.
          await eventually(
            "paused again",
            async () =>
              (await statusOf(c, "napper", idle)) === "SUSPENDED"
                ? true
                : undefined,
            30_000,
          );
        },
      );

      await t.step(
        "a manager restart (and an agent restart) keeps today's cost and the suspended session",
        async () => {
          const before = await today(c, idle);
          assert(before.spent > 0);
          await c.restartManager();
          await c.waitAgent(c.agents[0].id);
          const after = await today(c, idle);
          assert(
            after.spent >= before.spent,
            `${after.spent} < ${before.spent}`,
          );
          assertEquals(await statusOf(c, "napper", idle), "SUSPENDED");
          const r = await query(c, "napper", "print(x + 1)", idle);
          assertEquals(stdout(r).trim(), "43");
          assertEquals(await statusOf(c, "napper", idle), "RUNNING");
          // So does an agent restart: it adopts the frozen container frozen.
          const paused = await c.json<{ status: string }>(
            "POST",
            "/x/session/napper/suspend",
            undefined,
            idle,
          );
          assertEquals(paused.status, "SUSPENDED");
          const agent = c.agents[0].id;
          await c.killAgent(agent);
          await c.startAgent(agent);
          const id = await containerOf(sessionId);
          assertEquals(
            await docker("inspect", "-f", "{{.State.Paused}}", id),
            "true",
          );
          const r2 = await query(c, "napper", "print(x + 2)", idle);
          assertEquals(stdout(r2).trim(), "44");
          await c.json("DELETE", "/session/napper", undefined, idle);
        },
      );
    } finally {
      await c.stop();
    }
  },
});
