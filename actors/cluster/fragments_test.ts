import { assert, assertEquals } from "./_test_assert.ts";
import {
  FRAGMENT_HEADER_BYTES,
  type FragmentResult,
  OutboundMessage,
  Reassembler,
} from "./fragments.ts";

const limits = {
  maxMessageBytes: 1 << 20,
  maxBufferedBytes: 2 << 20,
  maxMessages: 4,
};

function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

function fragments(m: OutboundMessage): Uint8Array[] {
  const out: Uint8Array[] = [];
  while (!m.done) out.push(m.next());
  return out;
}

function complete(r: FragmentResult): Uint8Array {
  assertEquals(r.kind, "complete", JSON.stringify(r));
  return (r as { bytes: Uint8Array }).bytes;
}

function problem(r: FragmentResult): string {
  assertEquals(r.kind, "dropped", JSON.stringify(r));
  return (r as { problem: string }).problem;
}

Deno.test("fragments: a message cut into fragments comes back whole, interleaved with another", () => {
  const a = bytes(10_000, 1);
  const b = bytes(2_500, 2);
  const fa = fragments(new OutboundMessage(1, a, 1000, undefined));
  const fb = fragments(new OutboundMessage(2, b, 1000, undefined));
  assertEquals(fa.length, 10);
  assertEquals(fb.length, 3);
  assert(fa.every((f) => f.length <= 1000 + FRAGMENT_HEADER_BYTES));
  const r = new Reassembler(limits);
  const results: FragmentResult[] = [];
  for (let i = 0; i < fa.length; i++) {
    results.push(r.push(fa[i], 0));
    if (i < fb.length) results.push(r.push(fb[i], 0));
  }
  const done = results.filter((x) => x.kind === "complete");
  assertEquals(done.length, 2);
  assertEquals([...complete(done[0])], [...b]); // the short one finishes first
  assertEquals([...complete(done[1])], [...a]);
  assertEquals(r.inProgress, 0);
  assertEquals(r.reservedBytes, 0);
});

Deno.test("fragments: garbage is dropped with its reason, and a good message still passes after it", () => {
  const r = new Reassembler(limits);
  const good = fragments(new OutboundMessage(7, bytes(3000), 1000, undefined));
  // Too short, wrong magic, unknown flags.
  assertEquals(problem(r.push(new Uint8Array([1, 2, 3]), 0)), "malformed");
  const wrongMagic = good[0].slice();
  wrongMagic[0] = 0x42;
  assertEquals(problem(r.push(wrongMagic, 0)), "malformed");
  const badFlags = good[0].slice();
  badFlags[1] = 0xff;
  assertEquals(problem(r.push(badFlags, 0)), "malformed");
  // A middle fragment of a message never started.
  assertEquals(problem(r.push(good[1], 0)), "unknown-message");
  // Out of order: 0 then 2.
  assertEquals(r.push(good[0], 0).kind, "partial");
  assertEquals(problem(r.push(good[2], 0)), "out-of-order");
  assertEquals(r.inProgress, 0);
  // A first fragment declaring more than the maximum.
  const huge = fragments(
    new OutboundMessage(8, bytes(2 << 20), 1000, undefined),
  )[0];
  assertEquals(problem(r.push(huge, 0)), "too-large");
  // A header that lies about the total.
  const liar = good[2].slice();
  new DataView(liar.buffer).setUint32(12, 999);
  assertEquals(r.push(good[0], 0).kind, "partial");
  assertEquals(r.push(good[1], 0).kind, "partial");
  assertEquals(problem(r.push(liar, 0)), "out-of-order");
  // Restarting an id in progress drops it.
  assertEquals(r.push(good[0], 0).kind, "partial");
  assertEquals(problem(r.push(good[0], 0)), "duplicate-id");
  // After all that, the real thing.
  assertEquals(r.push(good[0], 0).kind, "partial");
  assertEquals(r.push(good[1], 0).kind, "partial");
  assertEquals([...complete(r.push(good[2], 0))], [...bytes(3000)]);
  assertEquals(r.reservedBytes, 0);
});

Deno.test("fragments: reassembly is bounded in bytes and messages, and stalled messages are swept", () => {
  const r = new Reassembler({ ...limits, maxBufferedBytes: 1 << 20 });
  const first = (id: number, n: number) =>
    new OutboundMessage(id, bytes(n), 1000, undefined).next();
  assertEquals(r.push(first(1, 600_000), 0).kind, "partial");
  assertEquals(problem(r.push(first(2, 600_000), 0)), "over-budget");
  assertEquals(r.push(first(3, 100_000), 10).kind, "partial");
  assertEquals(r.push(first(4, 100_000), 10).kind, "partial");
  assertEquals(r.push(first(5, 100_000), 10).kind, "partial");
  assertEquals(problem(r.push(first(6, 10), 10)), "over-budget"); // 4 in progress
  assertEquals(r.sweep(100, 95), 1); // only message 1 (last seen at 0) stalled
  assertEquals(r.inProgress, 3);
  assertEquals(r.reservedBytes, 300_000);
  r.clear();
  assertEquals([r.inProgress, r.reservedBytes], [0, 0]);
});
