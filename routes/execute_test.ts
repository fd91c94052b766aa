/**
 * `POST /session/{ref}` (execute.ts) over real HTTP against the stand-in:
 * query, input, continue, runId rules, errors, and `complete`. Harness:
 * _test_support.ts.
 */
import { assertEquals, assertMatch } from "../tests/support/assert.ts";
import {
  createSession,
  dualTest,
  expectProblem,
  signed,
  withServer,
} from "./_test_support.ts";

dualTest("execute: modes, runId rules, merged console, complete", async () => {
  await withServer(async (s) => {
    await createSession(s, "exec-sess");
    const exec = (body: unknown) =>
      signed(s, "/session/exec-sess", { method: "POST", body });
    const r1 =
      await (await exec({ mode: "query", code: "print(1)", runId: null }))
        .json();
    assertMatch(r1.result.runId, /^[0-9a-f]{16}$/);
    assertEquals(r1.result.status, "finished");
    assertEquals(r1.result.console, [["stdout", "echo:print(1)"]]);
    assertEquals(Object.keys(r1.result).sort(), [
      "console",
      "exitCode",
      "files",
      "options",
      "runId",
      "status",
    ]);

    const wait = await (await exec({
      mode: "query",
      code: "x = input()",
      runId: "run-0001",
    })).json();
    assertEquals([wait.result.status, wait.result.options], ["waiting-input", {
      is_password: false,
    }]);
    const fed =
      await (await exec({ mode: "input", code: "hello", runId: "run-0001" }))
        .json();
    assertEquals(fed.result.console, [["stdout", "got hello\n"]]);

    const slow =
      await (await exec({ mode: "query", code: "slow", runId: "run-0002" }))
        .json();
    assertEquals(slow.result.status, "continued");
    const cont =
      await (await exec({ mode: "continue", code: "", runId: "run-0002" }))
        .json();
    assertEquals(cont.result.status, "finished");

    const err =
      await (await exec({ mode: "query", code: "raise X", runId: "run-0003" }))
        .json();
    assertEquals([err.result.status, err.result.exitCode], ["finished", 1]);
    assertEquals(err.result.console, [["stderr", "Traceback\n"]]);

    await expectProblem(
      await exec({ mode: "query", code: "1" }),
      400,
      "invalid-api-params",
    );
    await expectProblem(
      await exec({ mode: "continue", code: "", runId: null }),
      400,
      "invalid-api-params",
    );
    await expectProblem(
      await exec({ mode: "input", code: "x", runId: null }),
      400,
      "invalid-api-params",
    );
    await expectProblem(
      await exec({ mode: "dance", code: "1", runId: null }),
      400,
      "invalid-api-params",
    );
    await expectProblem(
      await signed(s, "/session/nope-sess", {
        method: "POST",
        body: { mode: "query", code: "1", runId: null },
      }),
      404,
      "object-not-found",
    );

    const comp = await signed(s, "/session/exec-sess/complete", {
      method: "POST",
      body: { code: "pri", options: { row: 0, col: 3, line: "pri", post: "" } },
    });
    assertEquals((await comp.json()).result.completions, ["pri_done"]);
  });
});
