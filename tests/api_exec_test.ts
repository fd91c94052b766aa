/**
 * Execution through the real manager, end to end (one cluster: manager,
 * embedded Postgres, one agent with real Docker kernels): HTTP long-poll
 * query/input/continue/batch, exceptions, interrupt, exec timeout, session
 * files, and WebSocket streaming with input and a client that leaves mid-run.
 */
import { startCluster } from "./support/cluster.ts";
import { assert, assertEquals, assertMatch } from "./support/assert.ts";
import {
  execute,
  expectProblem,
  frameWhere,
  openStream,
  runQuery,
  type RunResult,
  stdoutOf,
  streamStdout,
  textOf,
  upload,
} from "./api_helpers_test.ts";

Deno.test({
  name: "api: execution over HTTP and WebSocket against a real cluster",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const c = await startCluster({ agents: 1 });
    try {
      const [py, cc] = await Promise.all([
        c.json<{ sessionId: string }>("POST", "/session", {
          image: "python",
          name: "exec-py",
        }),
        c.json<{ sessionId: string }>("POST", "/session", {
          image: "c",
          name: "exec-c",
        }),
      ]);
      assert(py.sessionId && cc.sessionId);

      await t.step(
        "query mode keeps interpreter state between runs",
        async () => {
          assertEquals(await stdoutOf(c, "exec-py", "x = 41"), "");
          assertEquals(
            await stdoutOf(c, "exec-py", "x += 1\nprint(x)"),
            "42\n",
          );
          const info = await c.json<{ numQueriesExecuted: number }>(
            "GET",
            "/session/exec-py",
          );
          assertEquals(info.numQueriesExecuted, 2);
        },
      );

      await t.step("input(): waiting-input, then mode input", async () => {
        const runId = "input-run";
        const first = await execute(c, "exec-py", {
          mode: "query",
          code: 'name = input("who? ")\nprint("hi", name)',
          runId,
        });
        assertEquals(first.status, "waiting-input");
        assertEquals(first.options, { is_password: false });
        assertEquals(textOf(first), "who? ");
        const second = await execute(c, "exec-py", {
          mode: "input",
          code: "bob",
          runId,
        });
        const replies = [second];
        while (replies.at(-1)!.status === "continued") {
          replies.push(
            await execute(c, "exec-py", { mode: "continue", runId }),
          );
        }
        assertEquals(replies.at(-1)!.status, "finished");
        assertEquals(textOf(replies), "hi bob\n");
      });

      await t.step(
        "a long run answers continued, then continue until finished",
        async () => {
          const replies = await runQuery(
            c,
            "exec-py",
            "import time\nfor i in range(4):\n    print(i, flush=True)\n    time.sleep(1)\nprint('done')",
          );
          assertEquals(replies[0].status, "continued");
          assertEquals(replies[0].exitCode, null);
          assert(
            textOf(replies[0]).startsWith("0\n"),
            `the first reply carries the output so far: ${
              JSON.stringify(replies[0])
            }`,
          );
          assertEquals(replies.at(-1)!.status, "finished");
          assertEquals(replies.at(-1)!.exitCode, 0);
          assertEquals(textOf(replies), "0\n1\n2\n3\ndone\n");
          assert(new Set(replies.map((r) => r.runId)).size === 1);
        },
      );

      await t.step(
        "an exception is a finished run with stderr and an exit code",
        async () => {
          const replies = await runQuery(
            c,
            "exec-py",
            "print('before')\nraise ValueError('boom')",
          );
          const last = replies.at(-1)!;
          assertEquals(last.status, "finished");
          assert(
            last.exitCode !== 0 && last.exitCode !== null,
            String(last.exitCode),
          );
          assertEquals(textOf(replies), "before\n");
          assertMatch(textOf(replies, "stderr"), /ValueError: boom/);
          // The session is fine afterwards and keeps its state.
          assertEquals(await stdoutOf(c, "exec-py", "print(x)"), "42\n");
        },
      );

      await t.step(
        "batch mode: upload a two-file C program, build, exec",
        async () => {
          await upload(c, "exec-c", {
            "main.c":
              '#include <stdio.h>\nint add(int, int);\nint main(void) { printf("sum=%d\\n", add(40, 2)); return 0; }\n',
            "util.c": "int add(int a, int b) { return a + b; }\n",
          });
          const runId = "batch-run";
          const replies = [
            await execute(c, "exec-c", {
              mode: "batch",
              runId,
              options: { build: "gcc -o main main.c util.c", exec: "./main" },
            }),
          ];
          while (replies.at(-1)!.status !== "finished") {
            const s = replies.at(-1)!.status;
            assert(
              ["continued", "clean-finished", "build-finished"].includes(s),
              `unexpected ${JSON.stringify(replies)}`,
            );
            replies.push(
              await execute(c, "exec-c", { mode: "continue", runId }),
            );
          }
          // Backend.AI's runners report the (empty) clean stage too.
          const statuses = replies.map((r) => r.status).filter((s) =>
            s !== "continued" && s !== "clean-finished"
          );
          assertEquals(statuses, ["build-finished", "finished"]);
          assertEquals(
            replies.find((r) => r.status === "build-finished")!.exitCode,
            0,
          );
          assertEquals(replies.at(-1)!.exitCode, 0);
          assertMatch(textOf(replies), /sum=42\n/);
        },
      );

      await t.step(
        "batch mode: a failing build is reported with its exit code",
        async () => {
          await upload(c, "exec-c", { "bad.c": "int main( { return 0; }\n" });
          const runId = "batch-bad";
          const replies = [
            await execute(c, "exec-c", {
              mode: "batch",
              runId,
              options: { build: "gcc -o bad bad.c", exec: "./bad" },
            }),
          ];
          while (
            ["continued", "clean-finished"].includes(replies.at(-1)!.status)
          ) {
            replies.push(
              await execute(c, "exec-c", { mode: "continue", runId }),
            );
          }
          const last = replies.at(-1)!;
          assert(
            ["build-finished", "finished"].includes(last.status),
            JSON.stringify(replies),
          );
          assert(last.exitCode !== 0, JSON.stringify(replies));
          assertMatch(textOf(replies, "stderr"), /error/);
          // Whatever the stage, the run must end so the next one can start.
          while (replies.at(-1)!.status !== "finished") {
            replies.push(
              await execute(c, "exec-c", { mode: "continue", runId }),
            );
          }
        },
      );

      await t.step(
        "interrupt stops `while True: pass`; the session stays usable",
        async () => {
          const runId = "spin";
          const first = await execute(c, "exec-py", {
            mode: "query",
            code: "spun = 0\nwhile True: pass",
            runId,
          });
          assertEquals(first.status, "continued");
          const res = await c.api("POST", "/session/exec-py/interrupt");
          assertEquals(res.status, 204, await res.text());
          const replies = [first];
          while (replies.at(-1)!.status === "continued") {
            replies.push(
              await execute(c, "exec-py", { mode: "continue", runId }),
            );
          }
          assertEquals(replies.at(-1)!.status, "finished");
          assertMatch(textOf(replies, "stderr"), /KeyboardInterrupt/);
          assertEquals(
            await stdoutOf(c, "exec-py", "print(x, spun)"),
            "42 0\n",
          );
        },
      );

      await t.step(
        "exec timeout (options.timeoutMs) ends the run as exec-timeout",
        async () => {
          const replies = await runQuery(c, "exec-py", "while True: pass", {
            timeoutMs: 1000,
          });
          const last = replies.at(-1)!;
          assertEquals(last.status, "exec-timeout");
          assertEquals(last.exitCode, 124);
          assertEquals(await stdoutOf(c, "exec-py", "print(x)"), "42\n");
        },
      );

      await t.step(
        "file upload, list, download; the kernel sees the files",
        async () => {
          await upload(c, "exec-py", { "hello.txt": "hello file\n" });
          assertEquals(
            await stdoutOf(
              c,
              "exec-py",
              "print(open('hello.txt').read(), end='')",
            ),
            "hello file\n",
          );
          // An uploaded module imports from a query cell, as with python3 -c.
          await upload(c, "exec-py", {
            "helper.py": "def twice(x):\n    return 2 * x\n",
          });
          assertEquals(
            await stdoutOf(
              c,
              "exec-py",
              "import helper\nprint(helper.twice(21))",
            ),
            "42\n",
          );
          await stdoutOf(
            c,
            "exec-py",
            "open('made.bin', 'wb').write(bytes(range(256)))",
          );
          const list = await c.json<{ files: string }>(
            "GET",
            "/session/exec-py/files?path=.",
          );
          const names =
            (JSON.parse(list.files) as { filename?: string; name?: string }[])
              .map((f) => f.filename ?? f.name);
          assert(
            names.includes("hello.txt") && names.includes("made.bin"),
            JSON.stringify(list),
          );
          const down = await c.api(
            "GET",
            "/session/exec-py/download_single?file=made.bin",
          );
          assertEquals(down.status, 200);
          assertEquals(
            new Uint8Array(await down.arrayBuffer()),
            Uint8Array.from({ length: 256 }, (_, i) => i),
          );
        },
      );

      await t.step(
        "websocket: frames as output arrives, input, close after finished",
        async () => {
          const s = await openStream(c, "/stream/session/exec-py/execute");
          s.ws.addEventListener("message", (e) => {
            if (JSON.parse(e.data).status === "waiting-input") {
              s.ws.send("ws line");
            }
          });
          s.ws.send(JSON.stringify({
            mode: "query",
            code:
              "import time\nprint('early', flush=True)\ntime.sleep(1)\nline = input('say: ')\nprint('got', line)",
            options: {},
          }));
          const close = await s.closed;
          assertEquals(close.code, 1000);
          const statuses = s.frames.map((f) => f.status);
          assertEquals(statuses.at(-1), "finished");
          assertEquals(s.frames.at(-1)!.exitCode, 0);
          assert(statuses.includes("waiting-input"), JSON.stringify(s.frames));
          // "early" came in its own frame, before the program asked for input.
          const early = s.frames.findIndex((f) =>
            streamStdout([f]).includes("early")
          );
          const asked = statuses.indexOf("waiting-input");
          assert(early >= 0 && early < asked, JSON.stringify(s.frames));
          assertEquals(s.frames[early].status, "continued");
          assertEquals(streamStdout(s.frames), "early\nsay: got ws line\n");
        },
      );

      await t.step(
        "websocket: a client leaving mid-run interrupts the run",
        async () => {
          const s = await openStream(c, "/stream/session/exec-py/execute");
          s.ws.send(JSON.stringify({
            mode: "query",
            code:
              "import time\nprint('started', flush=True)\ntime.sleep(3)\nopen('late.txt', 'w').write('late')",
          }));
          await frameWhere(s, (f) => streamStdout([f]).includes("started"));
          s.ws.close();
          await s.closed;
          // The interrupt reaches the kernel a moment after the close; until
          // the old run has ended a new query is refused as "in progress".
          const runId = "after-leave";
          let first: RunResult | undefined;
          for (let i = 0; !first; i++) {
            const res = await c.api("POST", "/session/exec-py", {
              mode: "query",
              runId,
              code:
                "import os, time\ntime.sleep(4)\nprint(os.path.exists('late.txt'))",
            });
            if (res.status === 200) {
              first = ((await res.json()) as { result: RunResult }).result;
              break;
            }
            const p = await expectProblem(res, 409, "session-busy");
            assertMatch(p.msg ?? "", /in progress/);
            assert(i < 100, "the left run never ended");
            await new Promise((r) => setTimeout(r, 100));
          }
          // Well after the old run would have written its file, there is none.
          const replies = [first];
          while (replies.at(-1)!.status === "continued") {
            replies.push(
              await execute(c, "exec-py", { mode: "continue", runId }),
            );
          }
          assertEquals(replies.at(-1)!.status, "finished");
          assertEquals(textOf(replies), "False\n");
        },
      );

      await t.step("websocket: errors come as an error frame", async () => {
        const missing = await openStream(
          c,
          "/stream/session/no-such-sess/execute",
        );
        missing.ws.send(JSON.stringify({ mode: "query", code: "print(1)" }));
        await missing.closed;
        assertEquals(missing.frames.map((f) => f.status), ["error"]);
        const bad = await openStream(c, "/stream/session/exec-py/execute");
        bad.ws.send("not json");
        await bad.closed;
        assertEquals(bad.frames.map((f) => f.status), ["error"]);
        assertEquals(
          await stdoutOf(c, "exec-py", "print('still ok')"),
          "still ok\n",
        );
      });

      await t.step(
        "unknown mode and unknown runId are 400 invalid-api-params",
        async () => {
          await expectProblem(
            await c.api("POST", "/session/exec-py", {
              mode: "nonsense",
              code: "",
              runId: null,
            }),
            400,
            "invalid-api-params",
          );
          await expectProblem(
            await c.api("POST", "/session/exec-py", {
              mode: "continue",
              code: "",
              runId: "never-started",
            }),
            400,
            "invalid-api-params",
          );
          await expectProblem(
            await c.api("POST", "/session/exec-py", {
              mode: "query",
              code: "",
            }),
            400,
            "invalid-api-params",
          );
        },
      );
      await t.step(
        "a missing file is 404 and the session survives the refusal",
        async () => {
          await expectProblem(
            await c.api("GET", "/session/exec-py/download?files=nope.txt"),
            404,
            "object-not-found",
          );
          await expectProblem(
            await c.api("GET", "/session/exec-py/files?path=no/such/dir"),
            404,
            "object-not-found",
          );
          // Paths out of the work dir are refused the same way, never served.
          for (
            const path of [
              "/session/exec-py/download?files=../../etc/passwd",
              "/session/exec-py/download?files=/etc/passwd",
              "/session/exec-py/files?path=../..",
            ]
          ) {
            const res = await c.api("GET", path);
            const text = await res.text();
            assert(
              res.status >= 400 && res.status < 500,
              `${path}: ${res.status}`,
            );
            assert(!text.includes("root:x:0:0"), `${path} leaked /etc/passwd`);
          }
          assertEquals(await stdoutOf(c, "exec-py", "print(x)"), "42\n");
        },
      );
    } finally {
      await c.stop();
    }
  },
});
