/**
 * `GET /events/session` (events.ts): lifecycle events as SSE frames, and a
 * 404 problem for an unknown session. Harness: _test_support.ts.
 */
import { assertEquals } from "../tests/support/assert.ts";
import {
  createSession,
  dualTest,
  expectProblem,
  signed,
  withServer,
} from "./_test_support.ts";

dualTest(
  "events: SSE frames of lifecycle events; unknown session is a 404 problem",
  async () => {
    await withServer(async (s) => {
      await createSession(s, "ev-sess");
      const res = await signed(s, "/events/session?name=ev-sess");
      assertEquals(res.status, 200);
      assertEquals(res.headers.get("content-type"), "text/event-stream");
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      while (s.standIn.eventListeners() === 0) {
        await new Promise((r) => setTimeout(r, 5));
      }
      s.standIn.emit({
        event: "session_started",
        data: { sessionName: "ev-sess" },
      });
      let text = "";
      while (!text.includes("\n\n")) text += (await reader.read()).value;
      assertEquals(
        text,
        'event: session_started\ndata: {"sessionName":"ev-sess"}\n\n',
      );
      await reader.cancel();
      await expectProblem(
        await signed(s, "/events/session?name=nothing-here"),
        404,
        "object-not-found",
      );
    });
  },
);
