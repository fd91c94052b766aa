/**
 * Scale-in protection and the autoscaler against a real manager, with real
 * agent processes: the autoscaler's local driver starts agents to reach a
 * minimum; scaling in with one busy, protected agent and one idle agent
 * stops only the idle one and drains the other; an admin's stop still stops
 * the protected one. And SIGTERM to a busy agent drains it: its session runs
 * on until it ends, then the agent exits.
 */
import { startCluster, type TestCluster } from "./support/cluster.ts";
import { assert, assertEquals } from "./support/assert.ts";
import { stdoutOf } from "./api_helpers_test.ts";

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

interface AgentView {
  id: string;
  status: string;
  schedulable: boolean;
}
interface Info {
  sessionId: string;
  status: string;
  agentId: string | null;
}

const SMALL_AGENT = ["--cpu", "1", "--mem", String(2 * 1024 ** 3)];

const agents = (c: TestCluster) =>
  c.json<{ agents: AgentView[] }>("GET", "/x/admin/agents").then((r) =>
    r.agents
  );

const agent = (c: TestCluster, id: string) =>
  agents(c).then((l) => l.find((a) => a.id === id));

const info = (c: TestCluster, name: string) =>
  c.json<Info>("GET", `/session/${name}`);

/** Removes containers of agents the manager's driver started (ids with `prefix`). */
async function removeContainersWithPrefix(prefix: string): Promise<void> {
  const out = await new Deno.Command("docker", {
    args: [
      "ps",
      "-a",
      "--filter",
      "label=ai.backend.agent-id",
      "--format",
      '{{.ID}} {{.Label "ai.backend.agent-id"}}',
    ],
    stdout: "piped",
    stderr: "null",
  }).output();
  const ids = new TextDecoder().decode(out.stdout).split("\n")
    .map((l) => l.split(" "))
    .filter(([, agentId]) => agentId?.startsWith(prefix))
    .map(([id]) => id);
  if (ids.length) {
    await new Deno.Command("docker", {
      args: ["rm", "-f", ...ids],
      stdout: "null",
      stderr: "null",
    }).output();
  }
}

Deno.test({
  name: "scale-in: the idle agent stops, the protected one drains",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const c = await startCluster({ agents: 0 });
    const prefix = `as${crypto.randomUUID().slice(0, 6)}`;
    const config = {
      enabled: true,
      minAgents: 2,
      maxAgents: 2,
      agentArgs: [...SMALL_AGENT, "--pool", "0"],
      idPrefix: prefix,
      intervalMs: 500,
      // The policy rule: every session protects its agent.
      protection: { olderThanMinutes: 0 },
    };
    const [one, two] = [`${prefix}-default-1`, `${prefix}-default-2`];
    try {
      await t.step(
        "the autoscaler starts agents up to its minimum",
        async () => {
          const put = await c.json<{ config: { minAgents: number } }>(
            "PUT",
            "/x/admin/scaling-groups/default/autoscaler",
            config,
          );
          assertEquals(put.config.minAgents, 2);
          await c.waitAgent(one, 120_000);
          await c.waitAgent(two, 120_000);
          const st = await c.json<{ status: { managed: string[] } }>(
            "GET",
            "/x/admin/scaling-groups/default/autoscaler",
          );
          assertEquals(st.status.managed.sort(), [one, two]);
        },
      );

      let busy = "";
      let idle = "";
      await t.step("scale-in stops only the idle agent", async () => {
        const s = await c.json<{ status: string }>("POST", "/session", {
          image: "python",
          name: "keep-me",
          config: { resources: { cpu: 1, mem: "512m" } },
        });
        assertEquals(s.status, "RUNNING");
        busy = (await info(c, "keep-me")).agentId!;
        idle = busy === one ? two : one;
        await c.json("PUT", "/x/admin/scaling-groups/default/autoscaler", {
          ...config,
          minAgents: 0,
        });
        await eventually("the idle agent to leave", async () => {
          const a = await agent(c, idle);
          return a && a.status !== "ALIVE" ? a : undefined;
        });
        const b = await eventually("the busy agent to be drained", async () => {
          const a = await agent(c, busy);
          return a && !a.schedulable ? a : undefined;
        });
        assertEquals(b.status, "ALIVE");
        assertEquals((await info(c, "keep-me")).status, "RUNNING");
        assertEquals(await stdoutOf(c, "keep-me", "print(6 * 7)"), "42\n");
      });

      await t.step(
        "an admin's stop still stops the protected agent",
        async () => {
          const res = await c.api("POST", `/x/admin/agents/${busy}/stop`);
          assertEquals(res.status, 204, await res.text());
          await eventually("the busy agent to be gone", async () => {
            const a = await agent(c, busy);
            return a && a.status !== "ALIVE" ? a : undefined;
          });
          const s = await eventually("keep-me to end", async () => {
            const i = await info(c, "keep-me");
            return ["ERROR", "TERMINATED"].includes(i.status) ? i : undefined;
          });
          assert(s.status !== "RUNNING");
        },
      );
    } finally {
      await c.json("PUT", "/x/admin/scaling-groups/default/autoscaler", {
        ...config,
        enabled: false,
        minAgents: 0,
      }).catch(() => undefined);
      await c.stop();
      await removeContainersWithPrefix(prefix);
    }
  },
});

Deno.test({
  name: "SIGTERM drains a busy agent: its session runs on, then it exits",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const c = await startCluster({ agents: 1, agentArgs: () => SMALL_AGENT });
    try {
      const a = c.agents[0];
      await c.json("POST", "/session", {
        image: "python",
        name: "long-job",
        config: { resources: { cpu: 1, mem: "512m" } },
      });
      assertEquals(await stdoutOf(c, "long-job", "x = 1\nprint(x)"), "1\n");
      let exited = false;
      const status = a.proc.status.then((s) => {
        exited = true;
        return s;
      });
      a.proc.kill("SIGTERM");
      await eventually("the agent to report draining", async () => {
        const v = await agent(c, a.id);
        return v && !v.schedulable ? v : undefined;
      });
      // Drained, not stopped: the kernel keeps its state and runs code.
      assertEquals((await info(c, "long-job")).status, "RUNNING");
      assertEquals(await stdoutOf(c, "long-job", "x += 1\nprint(x)"), "2\n");
      assert(!exited, "the agent exited while its session was running");
      // New work is not placed on it.
      await c.json("POST", "/session", {
        image: "python",
        name: "not-here",
        enqueueOnly: true,
        config: { resources: { cpu: 1, mem: "512m" } },
      });
      await c.json("DELETE", "/session/long-job");
      const s = await status;
      assertEquals(s.code, 0);
      assertEquals((await info(c, "not-here")).status, "PENDING");
      await eventually("the agent to have left", async () => {
        const v = await agent(c, a.id);
        return v && v.status !== "ALIVE" ? v : undefined;
      });
    } finally {
      await c.stop();
    }
  },
});
