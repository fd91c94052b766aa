/**
 * In-process tests of the cluster over real loopback WebSockets, with a
 * minimal stand-in for the actor system (only the hooks the transport uses),
 * so the transport is tested on its own. The multi-process tests with the
 * real runtime are in tests/cluster_test.ts.
 */
import { z } from "zod";
import { assert, assertEquals, assertRejects } from "./_test_assert.ts";
import {
  type ActorRef,
  type ActorSystemApi,
  type Address,
  type AskOptions,
  DeadLetterError,
  type StopReason,
  type Transport,
} from "../runtime/types.ts";
import { Cluster, type ClusterOptions } from "./cluster.ts";
import {
  ClusterBackpressureError,
  HandshakeRefusedError,
  InvalidMessageError,
  NodeUnreachableError,
  RemoteError,
} from "./errors.ts";
import { importSecret, makeHello } from "./handshake.ts";
import { Kind } from "./protocol.ts";
import { actorRefSchema } from "./schemas.ts";
import { inboundTraceparent, newTraceparent } from "./trace.ts";

/** Just enough of an actor system: path → handler. */
class StubSystem implements ActorSystemApi {
  transport: Transport | undefined;
  handlers = new Map<string, (msg: unknown) => unknown>();
  terminated: { address: Address; reason: StopReason }[] = [];
  watchedBy: string[] = [];
  deadLetters = { count: 0, subscribe: () => () => {} };
  constructor(readonly nodeId: string) {}
  spawn(): never {
    throw new Error("not in the stub");
  }
  shutdown() {
    return Promise.resolve();
  }
  refFor<M>(a: Address): ActorRef<M> {
    return {
      node: a.node,
      path: a.path,
      tell: (m: M) =>
        a.node === this.nodeId
          ? this.deliver(a.path, m)
          : this.transport!.tell(a, m),
      ask: <R>(m: M, o?: AskOptions) =>
        (a.node === this.nodeId
          ? this.deliverAsk(a.path, m)
          : this.transport!.ask(a, m, o ?? {})) as Promise<R>,
      toJSON: () => ({ $ref: { node: a.node, path: a.path } }),
    };
  }
  setTransport(t: Transport) {
    this.transport = t;
  }
  deliver(path: string, msg: unknown) {
    const h = this.handlers.get(path);
    if (!h) {
      this.deadLetters.count++;
      return false;
    }
    h(msg);
    return true;
  }
  deliverAsk(path: string, msg: unknown) {
    const h = this.handlers.get(path);
    if (!h) {
      return Promise.reject(new DeadLetterError({ node: this.nodeId, path }));
    }
    return Promise.resolve().then(() => h(msg));
  }
  signalTerminated(address: Address, reason: StopReason) {
    this.terminated.push({ address, reason });
  }
  watchFor(target: string, watcher: Address) {
    this.watchedBy.push(`${target}<-${watcher.node}${watcher.path}`);
  }
  unwatchFor(target: string, watcher: Address) {
    this.watchedBy = this.watchedBy.filter((w) =>
      w !== `${target}<-${watcher.node}${watcher.path}`
    );
  }
}

const quiet = { log: () => {} };

async function pair(
  extraA: Partial<ClusterOptions> = {},
  extraB: Partial<ClusterOptions> = {},
) {
  const sa = new StubSystem("a");
  const sb = new StubSystem("b");
  const a = new Cluster(sa, { secret: "s", ...quiet, ...extraA });
  const b = new Cluster(sb, { secret: "s", ...quiet, ...extraB });
  const { url } = await b.listen();
  assertEquals(await a.dial(url), "b");
  await b.waitForUp("a");
  return {
    sa,
    sb,
    a,
    b,
    url,
    [Symbol.asyncDispose]: async () => {
      await Promise.all([a.close(), b.close()]);
    },
  };
}

function next<T>(fn: (resolve: (v: T) => void) => void): Promise<T> {
  return new Promise(fn);
}

Deno.test("cluster: tells and asks cross the link, with refs revived and the traceparent carried", async () => {
  await using p = await pair();
  const got = next<[unknown, string | undefined]>((r) =>
    p.sb.handlers.set("/user/sink", (m) => r([m, inboundTraceparent()]))
  );
  p.sb.handlers.set("/user/echo", (m) => ({ echo: m }));
  p.sb.handlers.set("/user/fwd", (m) => {
    const { to, text } = m as { to: ActorRef; text: string };
    to.tell({ back: text });
    return to.path;
  });
  p.sa.refFor({ node: "b", path: "/user/sink" }).tell({ hello: 1 });
  const [msg, tp] = await got;
  assertEquals(msg, { hello: 1 });
  assert(tp && /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/.test(tp));
  assertEquals(await p.sa.refFor({ node: "b", path: "/user/echo" }).ask(42), {
    echo: 42,
  });
  const back = next<unknown>((r) => p.sa.handlers.set("/user/inbox", r));
  const inbox = p.sa.refFor({ node: "a", path: "/user/inbox" });
  assertEquals(
    await p.sa.refFor({ node: "b", path: "/user/fwd" }).ask({
      to: inbox,
      text: "hi",
    }),
    "/user/inbox",
  );
  assertEquals(await back, { back: "hi" });
});

Deno.test("cluster: remote failures come back typed", async () => {
  await using p = await pair();
  p.sb.handlers.set("/user/boom", () => {
    throw new TypeError("nope");
  });
  const err = await assertRejects(
    p.sa.refFor({ node: "b", path: "/user/boom" }).ask(1),
    RemoteError,
  );
  assertEquals([err.name, err.message], ["TypeError", "nope"]);
  await assertRejects(
    p.sa.refFor({ node: "b", path: "/user/missing" }).ask(1),
    DeadLetterError,
  );
  await assertRejects(
    p.sa.refFor({ node: "nowhere", path: "/user/x" }).ask(1),
    NodeUnreachableError,
  );
});

Deno.test("cluster: a registered path schema validates messages on receipt", async () => {
  await using p = await pair();
  p.b.registerSchema(
    "/user/typed",
    z.object({ n: z.number(), reply: actorRefSchema.optional() }),
  );
  const seen: unknown[] = [];
  p.sb.handlers.set("/user/typed", (m) => seen.push(m));
  const ref = p.sa.refFor({ node: "b", path: "/user/typed" });
  ref.tell({ n: "not a number" });
  await assertRejects(ref.ask({ n: "x" }), InvalidMessageError);
  assertEquals(
    await ref.ask({ n: 1, reply: p.sa.refFor({ node: "a", path: "/user/r" }) }),
    1,
  );
  assertEquals(seen.length, 1);
  assertEquals(p.b.stats.envelopesDropped, 2);
});

Deno.test("cluster: a wrong secret is refused with its reason and not retried", async () => {
  const sb = new StubSystem("b");
  const b = new Cluster(sb, { secret: "right", ...quiet });
  const { url } = await b.listen();
  const intruder = new Cluster(new StubSystem("x"), {
    secret: "wrong",
    ...quiet,
  });
  const refusedIn = next((r) => b.on("refused", r));
  const err = await assertRejects(intruder.dial(url), HandshakeRefusedError);
  assertEquals(err.code, "bad-secret");
  assertEquals((await refusedIn as { code: string }).code, "bad-secret");
  assertEquals(b.members().length, 0);
  await intruder.close();
  await b.close();
});

Deno.test("cluster: junk frames are dropped and counted, the link stays up", async () => {
  const sb = new StubSystem("b");
  const b = new Cluster(sb, { secret: "s", maxFrameBytes: 4096, ...quiet });
  const { url } = await b.listen();
  // Junk before any handshake: refused, nothing else happens.
  const junk = new WebSocket(url);
  await new Promise((r) => junk.onopen = r);
  junk.send("GARBAGE");
  const closed = await new Promise<CloseEvent>((r) => junk.onclose = r);
  assertEquals(closed.code, 4001);
  // A raw client that authenticates, then sends junk, then a good ask.
  const raw = new WebSocket(url);
  await new Promise((r) => raw.onopen = r);
  const frames: string[] = [];
  let wake: () => void = () => {};
  raw.onmessage = (e) => {
    frames.push(e.data);
    wake();
  };
  raw.send(
    JSON.stringify(
      await makeHello({
        key: await importSecret("s"),
        node: "raw",
        incarnation: 1,
      }),
    ),
  );
  await b.waitForUp("raw");
  const tp = newTraceparent();
  raw.send("not json at all");
  raw.send(new Uint8Array([1, 2, 3]));
  raw.send(JSON.stringify({ an: "object" }));
  raw.send(JSON.stringify([[42, "unknown"], [Kind.TELL, "no-slash", 1, tp]]));
  raw.send(JSON.stringify([[Kind.TELL, "/user/x", "y".repeat(5000), tp]]));
  sb.handlers.set("/user/echo", (m) => m);
  raw.send(
    JSON.stringify([[Kind.ASK, 1, "/user/echo", "still here", 1000, tp]]),
  );
  const reply = await new Promise<unknown[]>((resolve) => {
    wake = () => {
      for (const f of frames) {
        const envs = JSON.parse(f);
        for (const e of Array.isArray(envs) ? envs : []) {
          if (e[0] === Kind.REPLY) resolve(e);
        }
      }
    };
    wake();
  });
  assertEquals(reply.slice(0, 3), [Kind.REPLY, 1, "still here"]);
  assertEquals(b.stats.framesDropped, 4);
  assertEquals(b.stats.envelopesDropped, 2);
  assert(b.isUp("raw"));
  raw.close();
  await new Promise((r) => raw.onclose = r);
  await b.close();
});

Deno.test("cluster: over the queue bound tells become dead letters and asks fail typed", async () => {
  await using p = await pair({ maxQueued: 10 });
  let count = 0;
  p.sb.handlers.set("/user/sink", () => count++);
  const dead: string[] = [];
  p.a.on("deadLetter", (d) => dead.push(d.reason));
  const ref = p.sa.refFor({ node: "b", path: "/user/sink" });
  for (let i = 0; i < 15; i++) ref.tell(i); // all in one turn: the queue cannot flush in between
  await assertRejects(ref.ask("x"), ClusterBackpressureError);
  assertEquals(dead.length, 5);
  assertEquals(p.a.stats.deadLetters, 5);
  await p.sa.refFor({ node: "b", path: "/user/sink" }).ask("done");
  assertEquals(count, 11);
});

Deno.test("cluster: a graceful leave is a down at once: watchers get node-down, pending asks fail", async () => {
  const p = await pair();
  p.sb.handlers.set("/user/never", () => new Promise(() => {}));
  p.b.watch({ node: "a", path: "/user/w" }, {
    node: "b",
    path: "/user/watcher",
  });
  const pending = assertRejects(
    p.sa.refFor({ node: "b", path: "/user/never" }).ask(1, {
      timeoutMs: 60_000,
    }),
    NodeUnreachableError,
  );
  const down = next<{ node: string; reason: string }>((r) => p.b.on("down", r));
  await p.sa.refFor({ node: "b", path: "/user/missing" }).ask(0).catch(
    () => {},
  ); // the watch has arrived
  await p.a.close();
  await pending;
  assertEquals(
    await down,
    { node: "a", incarnation: p.a.incarnation, reason: "left" } as never,
  );
  assertEquals(p.sb.terminated, [{
    address: { node: "a", path: "/user/w" },
    reason: { kind: "node-down", node: "a" },
  }]);
  await assertRejects(
    p.sb.refFor({ node: "a", path: "/user/x" }).ask(1),
    NodeUnreachableError,
  );
  await p.b.close();
});

Deno.test("cluster: a restarted node (new incarnation) replaces the old one, whose watches are void", async () => {
  const sb = new StubSystem("b");
  const b = new Cluster(sb, { secret: "s", ...quiet });
  const { url } = await b.listen();
  const a1 = new Cluster(new StubSystem("a"), {
    secret: "s",
    incarnation: 1,
    ...quiet,
  });
  await a1.dial(url);
  await b.waitForUp("a");
  b.watch({ node: "a", path: "/user/t" }, { node: "b", path: "/user/w" });
  const events: string[] = [];
  b.on("down", (e) => events.push(`down ${e.incarnation} ${e.reason}`));
  b.on("up", (e) => events.push(`up ${e.incarnation}`));
  const upAgain = next((r) => b.on("up", r));
  const a2 = new Cluster(new StubSystem("a"), {
    secret: "s",
    incarnation: 2,
    ...quiet,
  });
  await a2.dial(url);
  await upAgain;
  assertEquals(events, ["down 1 restarted", "up 2"]);
  assertEquals(sb.terminated.length, 1);
  assertEquals(b.members(), [{ node: "a", incarnation: 2, status: "up" }]);
  await Promise.all([a1.close(), a2.close(), b.close()]);
});

Deno.test("cluster: the accepting side mounts in a Hono app", async () => {
  const { Hono } = await import("hono");
  const sb = new StubSystem("manager");
  const b = new Cluster(sb, { secret: "s", ...quiet });
  const app = new Hono();
  app.get("/api/cluster", (c) => b.acceptUpgrade(c.req.raw));
  app.get("/", (c) => c.text("gateway"));
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    app.fetch,
  );
  const a = new Cluster(new StubSystem("agent"), { secret: "s", ...quiet });
  try {
    sb.handlers.set("/user/echo", (m) => m);
    assertEquals(
      await a.dial(`ws://127.0.0.1:${server.addr.port}/api/cluster`),
      "manager",
    );
    assertEquals(
      await a.ask({ node: "manager", path: "/user/echo" }, "via hono"),
      "via hono",
    );
    const plain = await fetch(
      `http://127.0.0.1:${server.addr.port}/api/cluster`,
    );
    assertEquals(plain.status, 426);
    await plain.body?.cancel();
  } finally {
    await a.close();
    await b.close();
    await server.shutdown();
  }
});

Deno.test("cluster: a peer that goes silent (link open, no heartbeats) is declared down by the failure detector", async () => {
  const sb = new StubSystem("b");
  const b = new Cluster(sb, {
    secret: "s",
    heartbeatMs: 50,
    failureDetector: { acceptableHeartbeatPauseMs: 100, minStdDeviationMs: 20 },
    ...quiet,
  });
  const { url } = await b.listen();
  const raw = new WebSocket(url);
  await new Promise((r) => raw.onopen = r);
  raw.send(
    JSON.stringify(
      await makeHello({
        key: await importSecret("s"),
        node: "mute",
        incarnation: 1,
      }),
    ),
  );
  await b.waitForUp("mute");
  b.watch({ node: "mute", path: "/user/x" }, { node: "b", path: "/user/w" });
  const pending = assertRejects(
    b.ask({ node: "mute", path: "/user/x" }, 1, { timeoutMs: 60_000 }),
    NodeUnreachableError,
  );
  const down = await next<{ reason: string }>((r) => b.on("down", r));
  assertEquals(down.reason, "failure-detector");
  await pending;
  assertEquals(sb.terminated, [{
    address: { node: "mute", path: "/user/x" },
    reason: { kind: "node-down", node: "mute" },
  }]);
  await new Promise((r) =>
    raw.readyState === WebSocket.CLOSED ? r(0) : raw.onclose = r
  );
  await b.close();
});

Deno.test("cluster: a dialer reconnects with backoff when the peer comes back", async () => {
  const a = new Cluster(new StubSystem("a"), {
    secret: "s",
    reconnect: { baseMs: 20, maxMs: 200 },
    ...quiet,
  });
  const b1 = new Cluster(new StubSystem("b"), {
    secret: "s",
    incarnation: 1,
    ...quiet,
  });
  const { port } = await b1.listen();
  await a.dial(`ws://127.0.0.1:${port}/cluster`);
  const downs: string[] = [];
  a.on("down", (e) => downs.push(`${e.incarnation} ${e.reason}`));
  const upAgain = next<{ incarnation: number }>((r) => a.on("up", r));
  await b1.close(); // graceful: a sees down at once and keeps redialing
  const sb2 = new StubSystem("b");
  sb2.handlers.set("/user/echo", (m) => m);
  const b2 = new Cluster(sb2, { secret: "s", incarnation: 2, ...quiet });
  await b2.listen({ port });
  assertEquals((await upAgain).incarnation, 2);
  assertEquals(downs, ["1 left"]);
  assertEquals(await a.ask({ node: "b", path: "/user/echo" }, "back"), "back");
  await a.close();
  await b2.close();
});
