/**
 * Runs and streams that end badly leave the session usable (issue 18):
 * concurrent queries get a clear 409, a stream that ends mid-run (a binary
 * frame) interrupts its run, and media output counts against the per-poll
 * output bound like text.
 */
import { startCluster } from "./support/cluster.ts";
import { assert, assertEquals } from "./support/assert.ts";
import {
  execute,
  expectProblem,
  frameWhere,
  openStream,
  type RunResult,
  streamStdout,
} from "./api_helpers_test.ts";

Deno.test({
  name: "api: runs and streams that end badly leave the session usable",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const c = await startCluster({ agents: 1, poolSize: 1 });
    try {
      await c.json("POST", "/session", { image: "python", name: "runs-py" });

      await t.step(
        "twenty concurrent queries: one runs, the rest get 409 session-busy",
        async () => {
          const replies = await Promise.all(
            Array.from(
              { length: 20 },
              (_, i) =>
                c.api("POST", "/session/runs-py", {
                  mode: "query",
                  runId: `conc-${i}`,
                  code: "import time\ntime.sleep(0.5)\nprint('ran')",
                }),
            ),
          );
          const ok = replies.filter((r) => r.status === 200);
          assertEquals(ok.length, 1);
          let runId = "";
          for (const r of replies) {
            if (r.status === 200) {
              runId = ((await r.json()) as { result: RunResult }).result.runId;
              continue;
            }
            const p = await expectProblem(r, 409, "session-busy");
            assert(
              (p.data as { runId?: string }).runId,
              "names the run in progress",
            );
          }
          // The one that ran finishes normally.
          let res = await execute(c, "runs-py", { mode: "continue", runId });
          while (res.status === "continued") {
            res = await execute(c, "runs-py", { mode: "continue", runId });
          }
          assertEquals(res.status, "finished");
        },
      );

      await t.step(
        "a binary frame mid-run ends the stream and interrupts its run",
        async () => {
          const s = await openStream(c, "/stream/session/runs-py/execute");
          s.ws.send(JSON.stringify({
            mode: "query",
            code:
              "import time\nprint('started', flush=True)\ntime.sleep(30)\nprint('late')",
          }));
          await frameWhere(s, (f) => streamStdout([f]).includes("started"));
          s.ws.send(new Uint8Array([1, 2, 3]));
          const err = await frameWhere(s, (f) => f.status === "error");
          assert(String(err.msg).includes("Text frames"), JSON.stringify(err));
          await s.closed;
          // The session takes a new query soon after (not after 30 s).
          const t0 = Date.now();
          for (;;) {
            const r = await c.api("POST", "/session/runs-py", {
              mode: "query",
              runId: null,
              code: "print('free')",
            });
            if (r.status === 200) {
              const out = ((await r.json()) as { result: RunResult }).result;
              assertEquals(out.console, [["stdout", "free\n"]]);
              break;
            }
            await expectProblem(r, 409, "session-busy");
            assert(
              Date.now() - t0 < 20_000,
              "the stream's run was never interrupted",
            );
            await new Promise((res) => setTimeout(res, 100));
          }
        },
      );

      await t.step(
        "media counts against the per-poll output bound",
        async () => {
          // Twelve large figures in one run would be far over the 4 MiB bound.
          const big = await execute(c, "runs-py", {
            mode: "query",
            runId: null,
            options: { maxOutputBytes: 64 << 20 },
            code: [
              "import matplotlib",
              "matplotlib.use('Agg')",
              "import matplotlib.pyplot as plt, numpy as np",
              "for i in range(12):",
              "    f = plt.figure(figsize=(20, 20), dpi=100)",
              "    plt.imshow(np.random.rand(400, 400))",
            ].join("\n"),
          });
          let media = 0;
          let size = 0;
          let cut = false;
          // Let every figure arrive before the next poll: all of them then
          // wait in one poll's buffer, which is where the bound applies.
          await new Promise((r) => setTimeout(r, 12_000));
          const replies = [big];
          while (replies.at(-1)!.status === "continued") {
            replies.push(
              await execute(c, "runs-py", {
                mode: "continue",
                runId: big.runId,
              }),
            );
          }
          for (const r of replies) {
            let perPoll = 0;
            for (const [kind, data] of r.console) {
              if (kind === "media") {
                media++;
                perPoll += String((data as string[])[1]).length;
              }
              if (kind === "stderr" && String(data).includes("output cut")) {
                cut = true;
              }
            }
            size = Math.max(size, perPoll);
          }
          assert(
            size <= 4 * 1024 * 1024,
            `one poll carried ${size} chars of media`,
          );
          assert(media > 0, "some figures came back");
          // Twelve such figures are well over the bound: the cut is said.
          assert(cut, "the client is told output was cut");
          // Parts are joined again: every media item is a whole PNG.
          for (const r of replies) {
            for (const [kind, data] of r.console) {
              if (kind !== "media") continue;
              const b64 = String((data as string[])[1]);
              assert(b64.startsWith("iVBORw0KGgo"), "starts as a PNG");
              const tail = atob(b64.slice(-16));
              assert(tail.includes("IEND"), "ends as a PNG");
            }
          }
          // The session still answers.
          const after = await execute(c, "runs-py", {
            mode: "query",
            runId: null,
            code: "print(1)",
          });
          assertEquals(after.console, [["stdout", "1\n"]]);
        },
      );
    } finally {
      await c.stop();
    }
  },
});
