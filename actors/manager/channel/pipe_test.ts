import assert from "node:assert/strict";
import type { ActorRef } from "../../runtime/types.ts";
import type { KernelMsg } from "../../protocol/agent.ts";
import { fromBase64, toBase64 } from "../../protocol/base64.ts";
import { ChannelClosedError, ChannelPipe } from "./pipe.ts";

/** A kernel ref that records what it is told. */
function kernel() {
  const told: KernelMsg[] = [];
  const ref = {
    node: "agent",
    path: "/user/agent/k",
    tell: (m: KernelMsg) => told.push(m),
    ask: () => Promise.reject(new Error("no asks")),
    toJSON: () => ({ $ref: { node: "agent", path: "/user/agent/k" } }),
  } as unknown as ActorRef<KernelMsg>;
  return { ref, told };
}

const data = (n: number, fill = 1) => ({
  type: "channel.data" as const,
  kernelId: "k",
  channelId: "c",
  data: toBase64(new Uint8Array(n).fill(fill)),
});

function pipe(k: ReturnType<typeof kernel>, window = 1024) {
  return new ChannelPipe(k.ref, {
    channelId: "c",
    kind: "tcp",
    sessionId: "s",
    window,
    maxQueuedInput: 4096,
    closeFlushMs: 50,
  });
}

Deno.test("pipe: output is credited only once the consumer asks for more", async () => {
  const k = kernel();
  const p = pipe(k, 800); // credits gather to a quarter window: 200
  p.opened({ window: 1000 });
  p.onEvent(data(200));
  p.onEvent(data(100, 2));
  assert.equal((await p.read())?.byteLength, 200);
  // The first chunk is handed out, not yet passed on: no credit.
  assert.equal(k.told.filter((m) => m.type === "channel.credit").length, 0);
  assert.equal((await p.read())?.[0], 2);
  // 200 credited now: at least a quarter window gathered.
  const credits = k.told.filter((m) => m.type === "channel.credit");
  assert.deepEqual(credits.map((m) => (m as { bytes: number }).bytes), [200]);
});

Deno.test("pipe: input waits for the kernel's credit and goes in order", async () => {
  const k = kernel();
  const p = pipe(k);
  const w1 = p.write(new Uint8Array(300).fill(7));
  assert.equal(k.told.length, 0, "nothing before the open's window");
  p.opened({ window: 100 });
  const writes = () =>
    k.told.filter((m) => m.type === "channel.write").map((m) =>
      fromBase64((m as { data: string }).data)
    );
  assert.deepEqual(writes().map((b) => b.byteLength), [100]);
  p.onEvent({
    type: "channel.credit",
    kernelId: "k",
    channelId: "c",
    bytes: 250,
  });
  await w1;
  assert.deepEqual(writes().map((b) => b.byteLength), [100, 200]);
  assert.ok(writes().every((b) => b.every((x) => x === 7)));
});

Deno.test("pipe: EOF follows queued input; close flushes, then tells close", async () => {
  const k = kernel();
  const p = pipe(k);
  p.opened({ window: 10 });
  void p.write(new Uint8Array(20));
  p.eof();
  assert.ok(!k.told.some((m) => m.type === "channel.eof"));
  p.onEvent({
    type: "channel.credit",
    kernelId: "k",
    channelId: "c",
    bytes: 10,
  });
  assert.equal(k.told.at(-1)?.type, "channel.eof");
  await assert.rejects(p.write(new Uint8Array(1)), ChannelClosedError);
  p.close();
  assert.equal(k.told.at(-1)?.type, "channel.close");
});

Deno.test("pipe: closed ends reads after the queued output, rejects writes, once", async () => {
  const k = kernel();
  const p = pipe(k);
  p.opened({ window: 0 });
  const pending = p.write(new Uint8Array(5));
  p.onEvent(data(3));
  p.onEvent({
    type: "channel.closed",
    kernelId: "k",
    channelId: "c",
    reason: "exit",
    exitCode: 3,
  });
  p.gone("later news");
  await assert.rejects(pending, ChannelClosedError);
  assert.equal((await p.read())?.byteLength, 3);
  assert.equal(await p.read(), null);
  assert.deepEqual(await p.closed, { reason: "exit", exitCode: 3 });
  assert.ok(p.ended && p.isClosed);
});

Deno.test("pipe: a flood of input past the bound closes the channel", async () => {
  const k = kernel();
  const p = pipe(k);
  await assert.rejects(p.write(new Uint8Array(5000)), ChannelClosedError);
  assert.match((await p.closed).reason, /input overflow/);
  assert.equal(k.told.at(-1)?.type, "channel.close");
});

Deno.test("pipe: output past twice the window is a violation", async () => {
  const k = kernel();
  const p = pipe(k, 1024);
  for (let i = 0; i < 30; i++) p.onEvent(data(4096));
  assert.match((await p.closed).reason, /past its credit/);
});

Deno.test("pipe: a reader waiting for output wakes on data and on EOF", async () => {
  const k = kernel();
  const p = pipe(k);
  const r = p.read();
  p.onEvent(data(4));
  assert.equal((await r)?.byteLength, 4);
  const r2 = p.read();
  p.onEvent({ type: "channel.eof", kernelId: "k", channelId: "c" });
  assert.equal(await r2, null);
  assert.ok(!p.isClosed, "EOF of output is not the end of the channel");
});
