import { assert, assertEquals, assertThrows } from "./_test_assert.ts";
import { FrameTooLargeError } from "./errors.ts";
import {
  decodeFrame,
  encodeAsk,
  encodeEnvelope,
  encodeReply,
  encodeTell,
  FrameQueue,
} from "./framing.ts";
import { Kind } from "./protocol.ts";
import { newTraceparent } from "./trace.ts";

const tp = newTraceparent();

Deno.test("framing: a queue batches envelopes into JSON-array frames that decode back", () => {
  const q = new FrameQueue({ batchCount: 3 });
  for (let i = 0; i < 5; i++) {
    assert(q.push(encodeEnvelope([Kind.TELL, "/user/a", { i }, tp])));
  }
  const f1 = q.take()!;
  const f2 = q.take()!;
  assertEquals(q.take(), undefined);
  const d1 = decodeFrame(f1);
  const d2 = decodeFrame(f2);
  assertEquals(d1.envelopes.length, 3);
  assertEquals(d2.envelopes.length, 2);
  assertEquals(d2.envelopes[1], [Kind.TELL, "/user/a", { i: 4 }, tp]);
  assertEquals(d1.invalid + d2.invalid, 0);
});

Deno.test("framing: batches split on the byte budget", () => {
  const q = new FrameQueue({ batchBytes: 200 });
  for (let i = 0; i < 10; i++) {
    q.push(encodeEnvelope([Kind.TELL, "/user/a", "x".repeat(50), tp]));
  }
  let frames = 0;
  let envs = 0;
  for (let f = q.take(); f !== undefined; f = q.take()) {
    frames++;
    assert(f.length <= 200 || decodeFrame(f).envelopes.length === 1);
    envs += decodeFrame(f).envelopes.length;
  }
  assertEquals(envs, 10);
  assert(frames >= 5);
});

Deno.test("framing: the queue is bounded but urgent traffic passes", () => {
  const q = new FrameQueue({ maxQueued: 2 });
  assert(q.push("[7,1]"));
  assert(q.push("[7,2]"));
  assert(!q.push("[7,3]"));
  q.pushUrgent("[7,4]");
  assertEquals(q.size, 3);
  assertEquals(q.clear().length, 3);
  assertEquals(q.size, 0);
});

Deno.test("framing: an envelope larger than the maximum frame is refused at the sender", () => {
  const err = assertThrows(
    () => encodeEnvelope([Kind.TELL, "/user/a", "y".repeat(2000), tp], 1024),
    FrameTooLargeError,
  );
  assertEquals(err.maxBytes, 1024);
  assert(err.bytes > 2000);
});

Deno.test("framing: oversized, binary, non-JSON and non-array frames are dropped whole", () => {
  assertEquals(
    decodeFrame("[" + "1,".repeat(600) + "1]", 1000).problem,
    "too-large",
  );
  assertEquals(decodeFrame(new ArrayBuffer(8)).problem, "binary");
  assertEquals(decodeFrame("{not json").problem, "not-json");
  assertEquals(decodeFrame('{"a":1}').problem, "not-array");
});

Deno.test("framing: malformed or unknown envelopes are counted, the good ones in the frame survive", () => {
  const frame = JSON.stringify([
    [Kind.TELL, "/user/a", 1, tp],
    [99, "unknown kind"],
    [Kind.TELL, "relative/path", 1, tp],
    [Kind.ASK, -1, "/user/a", 1, 100, tp],
    [Kind.TELL, "/user/a", 1, "x".repeat(100)],
    "junk",
    [Kind.ASK, 7, "/user/b", { q: 1 }, 1000, tp],
  ]);
  const d = decodeFrame(frame);
  assertEquals(d.problem, undefined);
  assertEquals(d.invalid, 5);
  assertEquals(d.envelopes.map((e) => e[0]), [Kind.TELL, Kind.ASK]);
  assertEquals(d.hasRefs, false);
  assert(
    decodeFrame(
      JSON.stringify([[
        Kind.TELL,
        "/a",
        { $ref: { node: "n", path: "/p" } },
        tp,
      ]]),
    ).hasRefs,
  );
});

Deno.test("framing: the hot kinds encode to exactly what encodeEnvelope makes", () => {
  const ref = { toJSON: () => ({ $ref: { node: "n", path: "/p" } }) };
  const values: unknown[] = [
    1,
    's"q\\u2028',
    { a: [1, null, { b: "😀" }] },
    null,
    undefined,
    () => 1,
    ref,
    [undefined],
  ];
  for (const v of values) {
    assertEquals(
      encodeTell('/user/a"b', v, tp),
      encodeEnvelope([Kind.TELL, '/user/a"b', v, tp]),
    );
    assertEquals(
      encodeAsk(7, "/user/a", v, 5000, tp),
      encodeEnvelope([Kind.ASK, 7, "/user/a", v, 5000, tp]),
    );
    assertEquals(
      encodeReply(7, v, 'junk"tp'),
      encodeEnvelope([Kind.REPLY, 7, v, 'junk"tp']),
    );
  }
  assertThrows(
    () => encodeTell("/a", "y".repeat(2000), tp, 1024),
    FrameTooLargeError,
  );
});
