/**
 * Manager restart end to end (kill -9 of the manager process, then a new one
 * on the same data dir and port): nothing is lost.
 *
 * - A RUNNING session is re-activated from the store and re-attached to its
 *   kernel once the agent rejoins the new manager; the interpreter's state
 *   is still there, through the same session id and name.
 * - A run that was in flight when the manager died ends with a clear status
 *   (its output is gone; the kernel is interrupted, so it is free again).
 * - A PENDING session is still PENDING after the restart, re-queued, and
 *   scheduled once capacity frees.
 */
import { startCluster, type TestCluster } from "./support/cluster.ts";
import { eventually } from "./support/eventually.ts";
import { assert, assertEquals } from "./support/assert.ts";
import { query, stderr, stdout } from "../actors/agent/_e2e_support.ts";

interface Info {
  sessionId: string;
  sessionName: string;
  status: string;
  statusInfo: string | null;
  kernelId: string | null;
}

interface ExecReply {
  result: {
    runId: string;
    status: string;
    exitCode: number | null;
    console: [string, unknown][];
  };
}

const info = (c: TestCluster, name: string) =>
  c.json<Info>("GET", `/session/${name}`);

Deno.test({
  name:
    "manager restart: running session kept and usable, in-flight run ends clearly, pending session rescheduled",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    // One agent with 2 CPUs: the running session takes 1, so a 2-CPU
    // session waits PENDING until the first one ends.
    const c = await startCluster({
      agents: 1,
      agentArgs: () => ["--cpu", "2", "--mem", String(4 * 1024 ** 3)],
    });
    try {
      const created = await c.json<{ sessionId: string; status: string }>(
        "POST",
        "/session",
        {
          image: "python",
          name: "mr-keep",
          config: { resources: { cpu: 1, mem: "512m" } },
        },
      );
      assertEquals(created.status, "RUNNING");
      const x = await query(c, "mr-keep", "x = 42");
      assertEquals(x.exitCode, 0, JSON.stringify(x));
      const before = await info(c, "mr-keep");

      const waiting = await c.json<{ sessionId: string; status: string }>(
        "POST",
        "/session",
        {
          image: "python",
          name: "mr-wait",
          enqueueOnly: true,
          config: { resources: { cpu: 2, mem: "512m" } },
        },
      );
      assertEquals(waiting.status, "PENDING");
      // Still pending once the scheduler has considered it (1 CPU free of 2).
      await eventually("mr-wait considered", async () => {
        const p = await c.json<
          { pending: { sessionId: string; code: string }[] }
        >(
          "GET",
          "/x/admin/scheduler/pending",
        );
        const item = p.pending.find((i) => i.sessionId === waiting.sessionId);
        return item && item.code !== "not-yet-considered" ? item : undefined;
      });
      assertEquals((await info(c, "mr-wait")).status, "PENDING");

      // A run in flight when the manager dies.
      const long = await c.json<ExecReply>("POST", "/session/mr-keep", {
        mode: "query",
        code: "import time\ntime.sleep(600)\nprint('never')",
        runId: null,
        options: {},
      });
      assertEquals(long.result.status, "continued");

      await c.restartManager();

      // Same id, same name, same kernel, still RUNNING.
      const after = await info(c, "mr-keep");
      assertEquals(after.sessionId, before.sessionId);
      assertEquals(after.sessionName, "mr-keep");
      assertEquals(after.kernelId, before.kernelId);
      assertEquals(after.status, "RUNNING", JSON.stringify(after));

      // The in-flight run ends with a clear status, not a 4xx/5xx.
      const lost = await c.json<ExecReply>("POST", "/session/mr-keep", {
        mode: "continue",
        code: "",
        runId: long.result.runId,
      });
      assertEquals(lost.result.status, "finished", JSON.stringify(lost));
      assert(lost.result.exitCode !== 0, JSON.stringify(lost));
      assert(
        stderr(lost.result).includes("manager restarted"),
        JSON.stringify(lost),
      );

      // The interpreter's state survived, through the same session id and name.
      const byName = await query(c, "mr-keep", "print(x)");
      assertEquals(stdout(byName), "42\n", JSON.stringify(byName));
      assertEquals(byName.exitCode, 0);
      const byId = await query(c, before.sessionId, "print(x + 1)");
      assertEquals(stdout(byId), "43\n", JSON.stringify(byId));

      // The pending session survived the restart, still pending ...
      const w = await info(c, "mr-wait");
      assertEquals(w.sessionId, waiting.sessionId);
      assertEquals(w.status, "PENDING", JSON.stringify(w));
      // ... and is scheduled once the running session frees its CPU.
      await c.json("DELETE", "/session/mr-keep");
      assertEquals((await info(c, "mr-keep")).status, "TERMINATED");
      await eventually(
        "mr-wait RUNNING",
        () =>
          info(c, "mr-wait").then((i) =>
            i.status === "RUNNING" ? i : undefined
          ),
      );
      const r = await query(c, "mr-wait", "print(6 * 7)");
      assertEquals(stdout(r), "42\n", JSON.stringify(r));
      await c.json("DELETE", "/session/mr-wait");
    } finally {
      await c.stop();
    }
  },
});
