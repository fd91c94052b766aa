import assert from "node:assert/strict";
import { DemuxError, muxFrame, StreamDemuxer } from "./demux.ts";

const te = new TextEncoder();
const td = new TextDecoder();

function collect(d: StreamDemuxer, parts: Uint8Array[]) {
  const acc: Record<string, string> = { stdout: "", stderr: "", stdin: "" };
  for (const p of parts) {
    for (const c of d.push(p)) acc[c.stream] += td.decode(c.data);
  }
  return acc;
}

Deno.test("demux: merged frames in one chunk", () => {
  const a = muxFrame("stdout", te.encode("hello "));
  const b = muxFrame("stderr", te.encode("oops"));
  const c = muxFrame("stdout", te.encode("world"));
  const all = new Uint8Array([...a, ...b, ...c]);
  const d = new StreamDemuxer();
  assert.deepEqual(collect(d, [all]), {
    stdout: "hello world",
    stderr: "oops",
    stdin: "",
  });
  assert.ok(d.idle);
});

Deno.test("demux: every split point, including inside the header", () => {
  const all = new Uint8Array([
    ...muxFrame("stdout", te.encode("abc")),
    ...muxFrame("stderr", te.encode("de")),
    ...muxFrame("stdout", new Uint8Array(0)),
    ...muxFrame("stdout", te.encode("fgh")),
  ]);
  for (let i = 0; i <= all.length; i++) {
    for (let j = i; j <= all.length; j++) {
      const d = new StreamDemuxer();
      const got = collect(d, [
        all.subarray(0, i),
        all.subarray(i, j),
        all.subarray(j),
      ]);
      assert.deepEqual(
        got,
        { stdout: "abcfgh", stderr: "de", stdin: "" },
        `split ${i},${j}`,
      );
      assert.ok(d.idle);
    }
  }
});

Deno.test("demux: byte-by-byte delivery and a partial frame is not idle", () => {
  const all = muxFrame("stdout", te.encode("xyz"));
  const d = new StreamDemuxer();
  const got = collect(
    d,
    Array.from(all.subarray(0, all.length - 1), (b) => new Uint8Array([b])),
  );
  assert.equal(got.stdout, "xy");
  assert.equal(d.idle, false);
  assert.equal(collect(d, [all.subarray(all.length - 1)]).stdout, "z");
  assert.ok(d.idle);
});

Deno.test("demux: payload is copied, so reusing the read buffer is safe", () => {
  const buf = new Uint8Array(muxFrame("stdout", te.encode("keep")));
  const chunks = new StreamDemuxer().push(buf);
  buf.fill(0);
  assert.equal(td.decode(chunks[0].data), "keep");
});

Deno.test("demux: unknown stream id is an error", () => {
  const bad = new Uint8Array([7, 0, 0, 0, 0, 0, 0, 1, 65]);
  assert.throws(() => new StreamDemuxer().push(bad), DemuxError);
});
