import assert from "node:assert/strict";
import { acceptOf, clientFrame, readFrame } from "./websocket.ts";
import { StreamReader } from "./http1.ts";

Deno.test("websocket: RFC 6455's sample key gives its accept value", () => {
  assert.equal(
    acceptOf("dGhlIHNhbXBsZSBub25jZQ=="),
    "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
  );
});

Deno.test("websocket: masked client frames decode back, at every length form", async () => {
  for (const n of [0, 5, 125, 126, 65535, 65536, 200_000]) {
    const payload = crypto.getRandomValues(new Uint8Array(Math.min(n, 65536)));
    const big = new Uint8Array(n);
    for (let i = 0; i < n; i += payload.length) {
      big.set(payload.subarray(0, n - i), i);
    }
    const f = clientFrame(0x2, big);
    assert.equal(f[1] & 0x80, 0x80, "clients mask");
    // Split the frame across reads at odd places.
    const parts = [f.subarray(0, 1), f.subarray(1, 7), f.subarray(7)];
    const src = { read: () => Promise.resolve(parts.shift() ?? null) };
    const got = await readFrame(new StreamReader(src));
    assert.ok(got?.fin);
    assert.equal(got?.opcode, 2);
    assert.deepEqual(got?.payload, big);
  }
});

Deno.test("websocket: an unmasked server text frame and a clean end", async () => {
  const parts = [new Uint8Array([0x81, 0x02, 0x68, 0x69])];
  const r = new StreamReader({
    read: () => Promise.resolve(parts.shift() ?? null),
  });
  const f = await readFrame(r);
  assert.equal(new TextDecoder().decode(f!.payload), "hi");
  assert.equal(await readFrame(r), null);
});
