/**
 * Streaming execution over a WebSocket (stream.ts) against the stand-in:
 * frames, waiting-input, close after the run, errors, an unsigned upgrade,
 * and a client disconnect interrupting the run. Harness: _test_support.ts.
 */
import { assertEquals, assertMatch } from "../tests/support/assert.ts";
import {
  collect,
  createSession,
  dualTest,
  expectProblem,
  signedSocket,
  withServer,
} from "./_test_support.ts";

dualTest(
  "websocket execute: frames, waiting-input, close after finished, errors",
  async () => {
    await withServer(async (s) => {
      await createSession(s, "ws-sess");
      const ws = await signedSocket(s, "/stream/session/ws-sess/execute");
      const { frames, closed } = collect(ws);
      ws.addEventListener("message", (e) => {
        if (JSON.parse(e.data).status === "waiting-input") ws.send("my line");
      });
      ws.send(
        JSON.stringify({ code: "x = input()", mode: "query", options: {} }),
      );
      await closed;
      assertEquals(frames.map((f) => f.status), [
        "continued",
        "waiting-input",
        "finished",
      ]);
      assertEquals(frames[0], {
        status: "continued",
        console: [["stdout", "ab\n"]],
        exitCode: null,
        options: null,
        files: [],
      });
      assertEquals(frames[2].console, [["stdout", "got my line\n"]]);
      assertEquals(s.standIn.inputs, ["my line"]);

      const missing = await signedSocket(
        s,
        "/stream/kernel/no-such-sess/execute",
      );
      const m = collect(missing);
      missing.send(JSON.stringify({ code: "1", mode: "query" }));
      await m.closed;
      assertEquals(m.frames, [{ status: "error", msg: "No such session." }]);

      const bad = await signedSocket(s, "/stream/session/ws-sess/execute");
      const b = collect(bad);
      bad.send("not json");
      await b.closed;
      assertEquals(b.frames[0].status, "error");

      // A manager without terminals (this stand-in has no channels)
      // refuses the upgrade with a 400 problem rather than opening a
      // socket that can only fail.
      const refused = await signedSocket(s, "/stream/session/ws-sess/pty")
        .then(() => "opened", (e: Error) => e.message);
      assertMatch(refused, /Invalid status code: 400/);

      // Unsigned upgrade → plain 401 problem, no socket.
      await expectProblem(
        await fetch(s.base + "/stream/session/ws-sess/execute", {
          headers: { "X-BackendAI-Version": "v6.20220315" },
        }),
        401,
        "auth-failed",
      );
    });
  },
);

dualTest(
  "websocket execute: client disconnect interrupts the run",
  async () => {
    await withServer(async (s) => {
      const { sessionId } = await createSession(s, "ws-drop");
      const ws = await signedSocket(s, "/stream/session/ws-drop/execute");
      const first = new Promise<void>((r) =>
        ws.addEventListener("message", () => r(), { once: true })
      );
      const closed = new Promise<void>((r) =>
        ws.addEventListener("close", () => r())
      );
      ws.send(JSON.stringify({ code: "forever", mode: "query" }));
      await first;
      ws.close();
      await closed;
      for (let i = 0; i < 1000 && s.standIn.interrupted.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 10));
      }
      assertEquals(s.standIn.interrupted, [sessionId]);
    });
  },
);
