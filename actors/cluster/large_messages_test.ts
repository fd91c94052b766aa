/**
 * Messages larger than a frame, in one process over real loopback
 * WebSockets with the real runtime on both sides: they travel in
 * fragments and arrive whole, small messages overtake them (except those
 * to the same actor, which keep their order), a message over the maximum
 * fails at the sender, and garbage fragments are dropped, counted and
 * logged while the link stays up. The multi-process version is in
 * tests/cluster_test.ts.
 */
import { Actor, ActorSystem } from "../runtime/mod.ts";
import { assert, assertEquals, assertRejects } from "./_test_assert.ts";
import { Cluster, type ClusterOptions } from "./cluster.ts";
import { FrameTooLargeError } from "./errors.ts";
import { Kind } from "./protocol.ts";
import { newTraceparent } from "./trace.ts";
import { fragmentFrame, rawPeer } from "./_test_util.ts";

const MiB = 1024 * 1024;

/** A deterministic string of `n` characters (not one repeated char, so a reordering shows). */
function blob(n: number, seed: number): string {
  const unit = `${seed}:abcdefghijklmnopqrstuvwxyz0123456789|`;
  return unit.repeat(Math.ceil(n / unit.length)).slice(0, n);
}

type SinkMsg =
  | { type: "blob"; data: string; seq: number }
  | { type: "small"; seq: number }
  | { type: "log" }
  | { type: "make"; bytes: number; seed: number };

/** Keeps what it got, in order; makes blobs on request. */
class Sink extends Actor<SinkMsg> {
  static log: string[] = [];
  receive(msg: SinkMsg) {
    switch (msg.type) {
      case "blob":
        Sink.log.push(
          `blob ${msg.seq} ${msg.data.length} ${
            msg.data === blob(msg.data.length, msg.seq)
          }`,
        );
        return;
      case "small":
        Sink.log.push(`small ${msg.seq}`);
        return;
      case "log":
        return Sink.log;
      case "make":
        return blob(msg.bytes, msg.seed);
    }
  }
}

class Echo extends Actor<unknown> {
  receive(msg: unknown) {
    return { echo: msg, sinkSaw: Sink.log.length };
  }
}

async function twoNodes(extra: Partial<ClusterOptions> = {}) {
  const logs: string[] = [];
  const log = (level: string, m: string) => logs.push(`${level} ${m}`);
  const sa = new ActorSystem({ nodeId: "a" });
  const sb = new ActorSystem({ nodeId: "b" });
  const a = new Cluster(sa, { secret: "s", log, ...extra });
  const b = new Cluster(sb, { secret: "s", log, ...extra });
  const { url } = await b.listen();
  await a.dial(url);
  await b.waitForUp("a");
  sb.spawn(() => new Sink(), { name: "sink" });
  sb.spawn(() => new Echo(), { name: "echo" });
  Sink.log = [];
  return {
    sa,
    sb,
    a,
    b,
    url,
    logs,
    [Symbol.asyncDispose]: async () => {
      await Promise.all([a.close(), b.close()]);
      await Promise.all([sa.shutdown(), sb.shutdown()]);
    },
  };
}

Deno.test("large messages: a 20 MiB tell and a 20 MiB ask reply arrive whole; small ones overtake, same-actor order holds", async () => {
  await using n = await twoNodes();
  const sink = n.sa.refFor<SinkMsg>({ node: "b", path: "/user/sink" });
  const echo = n.sa.refFor({ node: "b", path: "/user/echo" });
  sink.tell({ type: "small", seq: 0 });
  sink.tell({ type: "blob", data: blob(20 * MiB, 1), seq: 1 });
  sink.tell({ type: "small", seq: 2 }); // same actor: must come after the blob
  // Another actor: not held up by the blob (it had not reached the sink yet).
  const overtook = await echo.ask<{ sinkSaw: number }>("quick", {
    timeoutMs: 30_000,
  });
  assertEquals(overtook.sinkSaw, 1);
  const reply = await sink.ask<string>(
    { type: "make", bytes: 20 * MiB, seed: 7 },
    { timeoutMs: 30_000 },
  );
  assertEquals(reply.length, 20 * MiB);
  assert(reply === blob(20 * MiB, 7), "the reply came back altered");
  assertEquals(await sink.ask({ type: "log" }), [
    "small 0",
    `blob 1 ${20 * MiB} true`,
    "small 2",
  ]);
  assertEquals(n.a.stats.largeMessagesOut, 1);
  assertEquals(n.b.stats.largeMessagesIn, 1);
  assertEquals(n.b.stats.largeMessagesOut, 1);
  assertEquals(n.a.stats.largeMessagesIn, 1);
  assert(n.a.stats.fragmentsOut >= 80, `${n.a.stats.fragmentsOut} fragments`);
  assert(n.a.isUp("b") && n.b.isUp("a"));
});

Deno.test("large messages: over the maximum, a tell throws and an ask rejects at the sender; a reply too large fails the ask", async () => {
  await using n = await twoNodes({ maxMessageBytes: 2 * MiB });
  const sink = n.sa.refFor<SinkMsg>({ node: "b", path: "/user/sink" });
  let thrown: unknown;
  try {
    sink.tell({ type: "blob", data: blob(3 * MiB, 1), seq: 1 });
  } catch (e) {
    thrown = e;
  }
  assert(thrown instanceof FrameTooLargeError, String(thrown));
  await assertRejects(
    sink.ask({ type: "blob", data: blob(3 * MiB, 1), seq: 1 }),
    FrameTooLargeError,
  );
  const err = await assertRejects(
    sink.ask({ type: "make", bytes: 3 * MiB, seed: 1 }),
    Error,
  );
  assertEquals(err.name, "FrameTooLargeError");
  // Just under the maximum is fine.
  assertEquals(
    (await sink.ask<string>({ type: "make", bytes: MiB, seed: 2 })).length,
    MiB,
  );
});

Deno.test("large messages: a garbage fragment stream is dropped, counted and logged, and the link stays up", async () => {
  await using n = await twoNodes({ maxMessageBytes: 4 * MiB });
  const { ws: raw, replies } = await rawPeer(n.url, "s", "raw");
  await n.b.waitForUp("raw");
  const frag = fragmentFrame;
  const enc = new TextEncoder();
  const junk = [
    new Uint8Array([0xde, 0xad, 0xbe, 0xef]), // too short
    frag(0, 1, 3, 10, new Uint8Array(5)), // middle of nothing
    frag(1, 2, 0, 64 * MiB, new Uint8Array(5)), // over the maximum
    frag(1, 3, 0, 10, new Uint8Array(5)), // starts fine...
    frag(0, 3, 5, 10, new Uint8Array(5)), // ...then skips ahead
    frag(3, 4, 0, 4, new Uint8Array([0xff, 0xfe, 0xfd, 0xfc])), // not UTF-8
    frag(3, 5, 0, 6, enc.encode("{{{{{{")), // not JSON
  ];
  for (const f of junk) raw.send(f);
  // A good fragmented ask after the garbage: it still works.
  const ask = enc.encode(
    JSON.stringify([[
      Kind.ASK,
      9,
      "/user/echo",
      "after",
      5000,
      newTraceparent(),
    ]]),
  );
  raw.send(frag(1, 6, 0, ask.length, ask.subarray(0, 10)));
  raw.send(frag(2, 6, 1, ask.length, ask.subarray(10)));
  while (replies.length === 0) await new Promise((r) => setTimeout(r, 5));
  assertEquals(replies[0].slice(0, 3), [Kind.REPLY, 9, {
    echo: "after",
    sinkSaw: 0,
  }]);
  assertEquals(n.b.stats.framesDropped, 6); // the fragment that started well was not refused
  assertEquals(n.b.stats.fragmentsDropped, 4); // refused outright; the last two were whole but bad
  assertEquals(n.b.stats.largeMessagesIn, 3);
  assert(n.b.isUp("raw"));
  const dropped = n.logs.filter((l) => l.includes("dropped a frame from raw"));
  assertEquals(dropped.length, 6);
  assert(dropped.some((l) => l.includes("too-large")), dropped.join("\n"));
  assert(dropped.some((l) => l.includes("not-utf8")), dropped.join("\n"));
  raw.close();
  await new Promise((r) => raw.onclose = r);
});
