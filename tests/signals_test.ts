/**
 * Signals as supervisors send them (issue 18): `kill -TERM -- -PGID` to an
 * agent run as `deno task agent`, which is what systemd (KillMode=control-
 * group) and most supervisors do. The agent then gets SIGTERM twice, from
 * the group signal and forwarded by `deno task`, and must drain all the
 * same: it takes nothing new, its running kernel keeps working, and it
 * exits only once that kernel has ended.
 */
import { removeContainersOf, startCluster } from "./support/cluster.ts";
import { eventually } from "./support/eventually.ts";
import { assert, assertEquals } from "./support/assert.ts";

const ROOT = new URL("..", import.meta.url).pathname;

Deno.test({
  name:
    "signals: SIGTERM to the process group of `deno task agent` drains it (the kernel keeps running, exit after it ends)",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const c = await startCluster({ agents: 0 });
    const id = `sig-${crypto.randomUUID().slice(0, 8)}`;
    // setsid: its own process group, as a service manager would start it.
    const group = new Deno.Command("setsid", {
      args: [
        Deno.execPath(),
        "task",
        "agent",
        "--manager",
        `ws://127.0.0.1:${c.port}`,
        "--id",
        id,
        "--data-dir",
        `${c.dataDir}/${id}`,
        "--pool",
        "0",
      ],
      cwd: ROOT,
      env: { CLUSTER_SECRET: c.clusterSecret },
      stdin: "null",
      stdout: "null",
      stderr: Deno.env.get("TEST_LOGS") ? "inherit" : "null",
    }).spawn();
    let exited = false;
    const status = group.status.then((s) => {
      exited = true;
      return s;
    });
    try {
      await c.waitAgent(id);
      const s = await c.json<{ status: string }>("POST", "/session", {
        image: "python",
        name: "sig-a",
      });
      assertEquals(s.status, "RUNNING");
      const run = (code: string) =>
        c.json<{ result: { console: [string, string][] } }>(
          "POST",
          "/session/sig-a",
          { mode: "query", code, runId: null },
        );
      await run("n = 1");

      Deno.kill(-group.pid, "SIGTERM");
      await new Promise((r) => setTimeout(r, 4000));
      assert(!exited, "the agent is still there, draining");
      const agent = await c.json<{ status: string; draining?: boolean }>(
        "GET",
        `/x/admin/agents/${id}`,
      );
      assertEquals(agent.status, "ALIVE");
      assertEquals((await run("print(n + 1)")).result.console, [[
        "stdout",
        "2\n",
      ]]);
      // Draining: nothing new lands there.
      const refused = await c.api("POST", "/session", {
        image: "python",
        name: "sig-b",
        enqueueOnly: true,
      });
      assert(refused.status < 500, `create while draining: ${refused.status}`);
      await refused.body?.cancel();
      const b = await c.json<{ status: string }>("GET", "/session/sig-b")
        .catch(() => undefined);
      assert(b?.status !== "RUNNING", "no new kernel on a draining agent");

      // Its last kernel ends: then it leaves.
      await c.json("DELETE", "/session/sig-a");
      await c.api("DELETE", "/session/sig-b").then((r) => r.body?.cancel());
      await eventually(
        "the drained agent to exit",
        () => Promise.resolve(exited ? true : undefined),
        60_000,
      );
      await status;
    } finally {
      try {
        Deno.kill(-group.pid, "SIGKILL");
      } catch { /* gone */ }
      await status;
      await c.stop();
      await removeContainersOf([id]);
    }
  },
});
