/**
 * Resource limits end to end on a real cluster: a session that allocates
 * far past its memory slot (256m: the python image's minimum; 128m is refused) is OOM-killed and reported as such, and a fork
 * bomb is contained by the pids limit; in both cases the agent and another
 * session keep working.
 */
import assert from "node:assert/strict";
import { startCluster } from "./support/cluster.ts";
import {
  containersOf,
  processCount,
  query,
  sessionUntil,
  stderr,
  stdout,
} from "../actors/agent/_e2e_support.ts";

Deno.test({
  name: "agent limits end to end: OOM kill reported, fork bomb contained",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const c = await startCluster({
      agents: 1,
      agentArgs: () => ["--cpu", "4"],
    });
    try {
      await c.json("POST", "/session", { image: "python", name: "lim-other" });
      await query(c, "lim-other", "mine = 'still here'");
      const otherWorks = async () =>
        assert.equal(
          stdout(await query(c, "lim-other", "print(mine)")),
          "still here\n",
        );

      await t.step("OOM: the run ends and the session says why", async () => {
        const created = await c.json<{ status: string }>("POST", "/session", {
          image: "python",
          name: "lim-oom",
          config: { resources: { mem: "256m" } },
        });
        assert.equal(created.status, "RUNNING");
        const info = await c.json<{ kernelId: string }>(
          "GET",
          "/session/lim-oom",
        );
        const r = await query(c, "lim-oom", "big = b'x' * (1 << 30)");
        assert.equal(r.status, "finished");
        assert.notEqual(r.exitCode, 0);
        assert.match(stderr(r), /out of memory|memory limit/i);
        const s = await sessionUntil(
          c,
          "lim-oom",
          (s) => s.status === "ERROR" || s.status === "TERMINATED",
          "end after the OOM kill",
        );
        assert.match(String(s.statusInfo), /OOM|memory limit/);
        await otherWorks();
        // The agent removes the dead kernel's container.
        const deadline = Date.now() + 30_000;
        while (
          (await containersOf(info.kernelId)).length && Date.now() < deadline
        ) {
          await new Promise((r) => setTimeout(r, 200));
        }
        assert.deepEqual(await containersOf(info.kernelId), []);
        // The agent still takes new work.
        await c.json("POST", "/session", { image: "python", name: "lim-new" });
        assert.equal(stdout(await query(c, "lim-new", "print(2)")), "2\n");
        await c.json("DELETE", "/session/lim-new");
      });

      await t.step("fork bomb: contained by the pids limit", async () => {
        await c.json("POST", "/session", { image: "python", name: "lim-bomb" });
        const info = await c.json<{ kernelId: string }>(
          "GET",
          "/session/lim-bomb",
        );
        const r = await query(
          c,
          "lim-bomb",
          // Every process forks as fast as it can for two seconds (the pids
          // limit refuses forks long before), then the copies leave and the
          // first process reaps them. An endless bomb would keep the limit
          // full for good: the runner neither reaps children nor stops forked
          // copies of itself, and could not start its own threads any more
          // (see the report of this change).
          [
            "import os, time",
            "main, end, refused = os.getpid(), time.time() + 2, False",
            "while time.time() < end:",
            "    try: os.fork()",
            "    except BlockingIOError: refused = True",
            "if os.getpid() != main: os._exit(0)",
            "while True:",
            "    try: os.wait()",
            "    except ChildProcessError: break",
            "print('refused' if refused else 'never refused')",
          ].join("\n"),
          { timeoutMs: 5000 },
        );
        assert.notEqual(r.status, "continued");
        await otherWorks();
        const s = await c.json<{ status: string }>("GET", "/session/lim-bomb");
        console.error(
          `fork bomb: run ${r.status} (exit ${r.exitCode}), session ${s.status}`,
        );
        // Either the kernel survived (and answers) or its end is reported.
        if (s.status === "RUNNING") {
          // The bomb's children leave; until they have, the pids limit would
          // refuse the runner's own threads too.
          const [cid] = await containersOf(info.kernelId);
          const deadline = Date.now() + 30_000;
          while (
            cid && (await processCount(cid)) > 4 && Date.now() < deadline
          ) {
            await new Promise((r) => setTimeout(r, 200));
          }
          // The limit was reached: the first process's fork was refused.
          if (r.status === "finished") {
            assert.equal(stdout(r), "refused\n", JSON.stringify(r));
          }
          const alive = await query(c, "lim-bomb", "print('alive')", {
            timeoutMs: 5000,
          });
          assert.match(stdout(alive), /alive/, JSON.stringify(alive));
          await c.json("DELETE", "/session/lim-bomb");
        } else {
          assert.ok(["ERROR", "TERMINATED"].includes(s.status), s.status);
        }
        assert.deepEqual(await containersOf(info.kernelId), []);
        await otherWorks();
      });
      await c.json("DELETE", "/session/lim-other");
    } finally {
      await c.stop();
    }
  },
});
