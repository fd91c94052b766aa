import {
  deepStrictEqual as assertDeep,
  strictEqual as assertEquals,
} from "node:assert";
import { ROOT_CONTEXT } from "@opentelemetry/api";
import {
  contextOf,
  startSpan,
  traceparentOf,
  TRACING,
  withSpan,
} from "./tracing.ts";
import { byName, startOtlpReceiver } from "../../tests/support/otlp.ts";

const TP = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

Deno.test("tracing off: spans cost nothing and change nothing", async () => {
  if (TRACING) return console.log("skipped: this test process has OTEL_DENO");
  assertEquals(withSpan("x", { a: 1 }, () => 7), 7);
  assertEquals(await withSpan("x", {}, () => Promise.resolve(8)), 8);
  let threw = false;
  try {
    withSpan("x", {}, () => {
      throw new Error("boom");
    });
  } catch {
    threw = true;
  }
  assertEquals(threw, true);
  const s = startSpan("y");
  assertEquals(s.traceparent, undefined);
  assertEquals(s.run(() => 3), 3);
  s.end();
});

Deno.test("traceparent: to and from a context", () => {
  assertEquals(traceparentOf(contextOf(TP, ROOT_CONTEXT)), TP);
  assertEquals(traceparentOf(contextOf("garbage", ROOT_CONTEXT)), undefined);
  assertEquals(
    traceparentOf(contextOf(null, contextOf(TP, ROOT_CONTEXT))),
    undefined,
  );
  assertEquals(traceparentOf(ROOT_CONTEXT), undefined);
});

Deno.test("tracing on (OTEL_DENO, OTLP http/json): one tree across actors, errors recorded, no leaks", async () => {
  const receiver = await startOtlpReceiver();
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("../../tests/fixtures/telemetry_child.ts", import.meta.url)
          .pathname,
      ],
      env: receiver.env("telemetry-test"),
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
    // Spans are flushed at exit; give the last export a moment.
    const deadline = Date.now() + 5000;
    while (receiver.spans.length < 8 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const spans = receiver.spans;
    const root = spans.find((s) => s.name === "root")!;
    const tree = byName(spans.filter((s) => s.traceId === root.traceId));
    assertEquals(root.parentSpanId, "");
    assertEquals(root.attributes["test.case"], "ok");
    assertEquals(tree.get("outer.receive")?.parentSpanId, root.spanId);
    assertEquals(
      tree.get("inner.receive")?.parentSpanId,
      tree.get("outer.receive")?.spanId,
    );
    assertEquals(tree.get("inner.receive")?.attributes.m, "hi");

    const failing = spans.find((s) => s.name === "root-failing")!;
    const failed = spans.find((s) =>
      s.traceId === failing.traceId && s.name === "inner.receive"
    )!;
    assertEquals(failed.status, 2); // ERROR
    assertEquals(failed.attributes["error.type"], "Error");
    assertEquals(failed.events.includes("exception"), true);

    const remote = spans.find((s) => s.name === "remote-child")!;
    assertEquals(remote.traceId, TP.slice(3, 35));
    assertEquals(remote.parentSpanId, TP.slice(36, 52));

    // The untraced tell saw no trace, though a traced send woke its turn.
    assertDeep(JSON.parse(stdout.trim().split("\n").at(-1)!), [null]);
    assertEquals(
      receiver.spans.every((s) => s.service === "telemetry-test"),
      true,
    );
  } finally {
    await receiver.close();
  }
});
