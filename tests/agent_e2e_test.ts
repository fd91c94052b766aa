/**
 * The agent node end to end, through the manager's public API on a real
 * cluster (manager process + embedded Postgres + one agent process driving
 * real Docker): a kernel's whole lifecycle with usage metering, the
 * container hardening as seen from inside a session, interrupting an
 * endless loop without losing the interpreter's state, the output bound,
 * and sessions starting from the warm pool.
 */
import assert from "node:assert/strict";
import { startCluster } from "./support/cluster.ts";
import {
  containersOf,
  type ExecResult,
  kernelRecords,
  poolReady,
  query,
  stderr,
  stdout,
} from "../actors/agent/_e2e_support.ts";

Deno.test({
  name:
    "agent end to end: lifecycle, metering, hardening, interrupt, output bound, warm pool",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    // --cpu 4: room for a few 1-cpu sessions beside the warm container on a small machine.
    const c = await startCluster({
      agents: 1,
      poolSize: 1,
      agentArgs: () => ["--cpu", "4"],
    });
    const agentId = c.agents[0].id;
    const pool = { dataDir: c.dataDir, agentId };
    try {
      await t.step("kernel lifecycle with usage metered", async () => {
        // Deterministic: the kernel comes from the filled warm pool (cold
        // starts are covered by the other agent tests, which run poolless).
        await poolReady(c, agentId, 0);
        const created = await c.json<{ status: string }>("POST", "/session", {
          image: "python",
          name: "e2e-life",
        });
        assert.equal(created.status, "RUNNING");
        const info = await c.json<{ kernelId: string; status: string }>(
          "GET",
          "/session/e2e-life",
        );
        assert.equal(info.status, "RUNNING");
        assert.equal((await containersOf(info.kernelId, pool)).length, 1);

        const n = 3_000_000;
        const burn = await query(
          c,
          "e2e-life",
          `x = 0\nfor i in range(${n}): x += i\nblob = b'y' * (32 << 20)\nprint(x)`,
        );
        assert.equal(burn.status, "finished", stderr(burn));
        assert.equal(stdout(burn), `${(n - 1) * n / 2}\n`);

        const del = await c.json<{ stats: Record<string, number> }>(
          "DELETE",
          "/session/e2e-life",
        );
        const s = del.stats;
        assert.ok(s.cpuMs > 0, `cpuMs in ${JSON.stringify(s)}`);
        assert.ok(Number.isInteger(s.cpuMs), "whole ms (stored as bigint)");
        assert.ok(s.memKiB > 0, `memKiB in ${JSON.stringify(s)}`);
        assert.ok(s.memPeakKiB >= 32 * 1024, "the peak covers the 32 MiB blob");

        const ended = await c.json<
          { status: string; lastStat: Record<string, number> | null }
        >("GET", "/session/e2e-life");
        assert.equal(ended.status, "TERMINATED");
        // lastStat is written by the same store call that inserts the usage
        // record, before the TERMINATED transition: both happened.
        assert.ok((ended.lastStat?.cpuMs ?? 0) > 0, JSON.stringify(ended));
        assert.deepEqual(await containersOf(info.kernelId, pool), []);
      });

      await t.step("hardening visible from inside the session", async () => {
        await c.json("POST", "/session", { image: "python", name: "e2e-hard" });
        const r = await query(
          c,
          "e2e-hard",
          [
            "import os, json",
            "st = dict(l.split(':', 1) for l in open('/proc/self/status').read().splitlines() if ':' in l)",
            "try:",
            "    open('/usr/evil', 'w'); usr = 'writable'",
            "except OSError as e:",
            "    usr = type(e).__name__",
            "print(json.dumps({'cap': st['CapEff'].strip(), 'nnp': st['NoNewPrivs'].strip(), 'uid': os.getuid(), 'ifs': sorted(os.listdir('/sys/class/net')), 'usr': usr}))",
          ].join("\n"),
        );
        assert.equal(r.status, "finished", stderr(r));
        const seen = JSON.parse(stdout(r));
        assert.equal(seen.cap, "0000000000000000");
        assert.equal(seen.nnp, "1");
        assert.equal(seen.uid, 1000);
        assert.deepEqual(seen.ifs, ["lo"]);
        assert.notEqual(seen.usr, "writable");
      });

      await t.step(
        "interrupt stops an endless loop, keeps the kernel and its variables",
        async () => {
          await query(c, "e2e-hard", "kept = 42");
          let r = (await c.json<ExecResult>("POST", "/session/e2e-hard", {
            mode: "query",
            code: "while True: pass",
            runId: null,
          })).result;
          assert.equal(r.status, "continued");
          const res = await c.api("POST", "/session/e2e-hard/interrupt");
          await res.body?.cancel();
          assert.equal(res.status, 204);
          const console = [...r.console];
          while (r.status === "continued") {
            r = (await c.json<ExecResult>("POST", "/session/e2e-hard", {
              mode: "continue",
              code: "",
              runId: r.runId,
            })).result;
            console.push(...r.console);
          }
          assert.equal(r.status, "finished");
          assert.notEqual(r.exitCode, 0);
          assert.match(stderr({ console }), /KeyboardInterrupt/);
          assert.equal(
            stdout(await query(c, "e2e-hard", "print(kept)")),
            "42\n",
          );
        },
      );

      await t.step("runaway output is cut and the user told", async () => {
        const r = await query(
          c,
          "e2e-hard",
          "import time\nt = time.time()\nwhile time.time() - t < 3: print('x' * 1000)",
        );
        assert.equal(r.status, "finished");
        const out = stdout(r);
        assert.ok(out.length <= 1024 * 1024, `stdout ${out.length} bytes`);
        assert.ok(out.length > 100_000, "output up to the bound arrived");
        assert.match(stderr(r), /output truncated/);
        assert.equal(stdout(await query(c, "e2e-hard", "print(kept)")), "42\n");
        await c.json("DELETE", "/session/e2e-hard");
      });

      await t.step("sessions start from the warm pool", async () => {
        const fromPool: boolean[] = [];
        const names = ["e2e-pool1", "e2e-pool2"];
        for (const [i, name] of names.entries()) {
          await poolReady(c, agentId, i);
          await c.json("POST", "/session", { image: "python", name });
          const info = await c.json<{ kernelId: string }>(
            "GET",
            `/session/${name}`,
          );
          const records = await kernelRecords(c.dataDir, agentId);
          fromPool.push(records.get(info.kernelId)?.fromPool === true);
          assert.equal(stdout(await query(c, name, "print(1)")), "1\n");
        }
        assert.deepEqual(fromPool, [true, true]);
        for (const name of names) {
          await c.json("DELETE", `/session/${name}`);
        }
      });
    } finally {
      await c.stop();
    }
  },
});
