/**
 * The session routes (session.ts) over real HTTP against the stand-in:
 * v5 `POST /session` (create, reuse, conflicts, parameter checks), info,
 * destroy, and the v4 `/kernel` paths. Harness: _test_support.ts.
 */
import { assertEquals, assertExists } from "../tests/support/assert.ts";
import { ADMIN } from "../tests/support/gateway_standin.ts";
import {
  dualTest,
  expectProblem,
  signed,
  withServer,
} from "./_test_support.ts";

dualTest(
  "sessions v5: create, reuse, conflicts, info, params validation, destroy",
  async () => {
    await withServer(async (s) => {
      const created = await signed(s, "/session", {
        method: "POST",
        body: {
          lang: "python:3.11",
          clientSessionToken: "my-sess",
          sessionType: "interactive",
          config: {
            resources: { cpu: "2", mem: "512m", "cuda.device": 1 },
            scalingGroup: "default",
          },
        },
      });
      assertEquals(created.status, 201);
      const c1 = await created.json();
      assertEquals([c1.sessionName, c1.status, c1.created, c1.servicePorts], [
        "my-sess",
        "RUNNING",
        true,
        [],
      ]);
      assertEquals(c1.kernelId, undefined);
      const stored = s.standIn.sessions.get(c1.sessionId)!;
      assertEquals(stored.info.occupiedSlots, {
        cpu: 2,
        mem: 512 * 2 ** 20,
        "cuda.device": 1,
      });

      const reused = await signed(s, "/session", {
        method: "POST",
        body: { image: "python:3.11", name: "my-sess" },
      });
      assertEquals(reused.status, 200);
      assertEquals((await reused.json()).created, false);

      const other = await signed(s, "/session", {
        method: "POST",
        body: { image: "r:4", name: "my-sess" },
      });
      const conflict = await expectProblem(
        other,
        400,
        "session-already-exists",
      );
      assertEquals(conflict.data, { existingSessionId: c1.sessionId });
      await expectProblem(
        await signed(s, "/session", {
          method: "POST",
          body: { image: "python:3.11", name: "my-sess", reuseIfExists: false },
        }),
        400,
        "session-already-exists",
      );

      for (
        const bad of [
          { image: "python", name: "x" }, // name too short
          { image: "python", name: "-bad-name" },
          { name: "no-image-here" },
          { image: "python", name: "batchy", type: "batch" }, // batch needs startupCommand
          {
            image: "python",
            name: "memmy",
            config: { resources: { mem: "lots" } },
          },
          { image: "python", name: "typo", type: "interactiv" },
        ]
      ) {
        const p = await expectProblem(
          await signed(s, "/session", { method: "POST", body: bad }),
          400,
          "invalid-api-params",
        );
        assertExists(p.data, JSON.stringify(bad));
      }

      const info =
        await (await signed(s, `/session/${c1.sessionId.slice(0, 8)}`))
          .json();
      assertEquals([info.sessionName, info.image, info.status], [
        "my-sess",
        "python:3.11",
        "RUNNING",
      ]);

      await expectProblem(
        await signed(s, "/session/my-sess?forced=true", { method: "DELETE" }),
        403,
        "insufficient-privilege",
      );
      await expectProblem(
        await signed(s, `/session/my-sess?owner_access_key=${ADMIN.accessKey}`),
        403,
        "insufficient-privilege",
      );
      const del = await signed(s, "/session/my-sess", { method: "DELETE" });
      assertEquals(del.status, 200);
      assertExists((await del.json()).stats);
      const ended = await (await signed(s, "/session/my-sess")).json();
      assertEquals(ended.status, "TERMINATED");
      await expectProblem(
        await signed(s, "/session/my-sess", { method: "PATCH" }),
        404,
        "object-not-found",
      );
      // Query-string parameters work too (GET-style create is unusual but allowed).
      const viaQuery = await signed(
        s,
        "/session?image=python:3.11&name=query-made&enqueueOnly=true",
        { method: "POST" },
      );
      assertEquals(viaQuery.status, 201);
      assertEquals((await viaQuery.json()).status, "PENDING");
    });
  },
);

dualTest(
  "sessions v4: POST /kernel/create and kernelId, /kernel paths",
  async () => {
    await withServer(async (s) => {
      const res = await signed(s, "/kernel/create", {
        method: "POST",
        version: "v4.20190615",
        body: {
          lang: "python:3.11",
          clientSessionToken: "v4-sess",
          config: { cpu: 1, mem: "1g" },
        },
      });
      assertEquals(res.status, 201);
      const body = await res.json();
      assertEquals(body.kernelId, body.sessionId);
      assertEquals(s.standIn.sessions.get(body.sessionId)!.info.occupiedSlots, {
        cpu: 1,
        mem: 2 ** 30,
      });
      const info = await signed(s, "/kernel/v4-sess", {
        version: "v4.20190615",
      });
      assertEquals((await info.json()).kernelId, body.sessionId);
      const exec = await signed(s, "/kernel/v4-sess", {
        method: "POST",
        version: "v4.20190615",
        body: { mode: "query", code: "1+1", runId: "abcdefgh" },
      });
      assertEquals((await exec.json()).result.console, [[
        "stdout",
        "echo:1+1",
      ]]);
      const restart = await signed(s, "/kernel/v4-sess", {
        method: "PATCH",
        version: "v4.20190615",
      });
      assertEquals(restart.status, 204);
      const interrupt = await signed(s, "/kernel/v4-sess/interrupt", {
        method: "POST",
        version: "v4.20190615",
      });
      assertEquals(interrupt.status, 204);
      const del = await signed(s, "/kernel/v4-sess", {
        method: "DELETE",
        version: "v4.20190615",
      });
      assertEquals(del.status, 200);
      await del.body?.cancel();
    });
  },
);
