import assert from "node:assert/strict";
import {
  encodeFrame,
  FrameDecoder,
  MAX_FRAME_BYTES,
  ProtocolError,
  RunnerEvent,
} from "./protocol.ts";

Deno.test("frames: round trip across every split point", () => {
  const msgs = [{ op: "ping", id: "1" }, {
    ev: "out",
    id: "2",
    stream: "stdout",
    data: "héllo ✓",
  }, {}];
  const all = new Uint8Array(msgs.flatMap((m) => [...encodeFrame(m)]));
  for (let i = 0; i <= all.length; i++) {
    const d = new FrameDecoder();
    const got = [...d.push(all.subarray(0, i)), ...d.push(all.subarray(i))];
    assert.deepEqual(got, msgs, `split at ${i}`);
    assert.equal(d.pendingBytes, 0);
  }
});

Deno.test("frames: header is 4-byte big-endian length of the UTF-8 body", () => {
  const f = encodeFrame({ a: "é" });
  const body = new TextEncoder().encode('{"a":"é"}');
  assert.deepEqual([...f.subarray(0, 4)], [0, 0, 0, body.length]);
  assert.deepEqual(f.subarray(4), body);
});

Deno.test("frames: oversize length and non-JSON are protocol errors", () => {
  const big = new Uint8Array(4);
  new DataView(big.buffer).setUint32(0, MAX_FRAME_BYTES + 1);
  assert.throws(() => new FrameDecoder().push(big), ProtocolError);
  const junk = new Uint8Array([0, 0, 0, 2, 123, 123]);
  assert.throws(() => new FrameDecoder().push(junk), ProtocolError);
});

Deno.test("runner events are validated", () => {
  assert.ok(
    RunnerEvent.safeParse({
      ev: "done",
      id: "1",
      status: "finished",
      exitCode: 0,
    }).success,
  );
  assert.ok(
    !RunnerEvent.safeParse({
      ev: "done",
      id: "1",
      status: "weird",
      exitCode: 0,
    }).success,
  );
  assert.ok(!RunnerEvent.safeParse({ ev: "nope" }).success);
});
