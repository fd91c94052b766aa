/**
 * The runtime and the cluster together, in one process over real loopback
 * WebSockets: deferred replies (`replyLater`) answer remote asks, and the
 * envelope's trace context reaches the receiving handler.
 */
import { ActorSystem } from "../runtime/mod.ts";
import { Actor, replyLater } from "../runtime/mod.ts";
import { assert, assertEquals, assertRejects } from "./_test_assert.ts";
import { Cluster } from "./cluster.ts";
import { RemoteError } from "./errors.ts";

const quiet = { log: () => {} };

async function twoNodes() {
  const sa = new ActorSystem({ nodeId: "a" });
  const sb = new ActorSystem({ nodeId: "b" });
  const a = new Cluster(sa, { secret: "s", ...quiet });
  const b = new Cluster(sb, { secret: "s", ...quiet });
  const { url } = await b.listen();
  await a.dial(url);
  await b.waitForUp("a");
  return {
    sa,
    sb,
    a,
    b,
    [Symbol.asyncDispose]: async () => {
      await Promise.all([a.close(), b.close()]);
      await Promise.all([sa.shutdown(), sb.shutdown()]);
    },
  };
}

type GateMsg = "wait" | "fail-later" | "release" | "log";

/** Parks "wait" asks with replyLater; "release" (another message) answers them. */
class Gate extends Actor<GateMsg> {
  log: string[] = [];
  waiting: ((v: string) => void)[] = [];
  receive(msg: GateMsg) {
    this.log.push(msg);
    switch (msg) {
      case "wait":
        return replyLater(
          new Promise<string>((r) => this.waiting.push(r)),
        );
      case "fail-later":
        return replyLater(Promise.reject(new TypeError("not today")));
      case "release":
        for (const w of this.waiting.splice(0)) {
          w(`released after ${this.log.join(",")}`);
        }
        return "ok";
      case "log":
        return this.log;
    }
  }
}

Deno.test("cluster + runtime: a remote ask answered by replyLater after another message was handled", async () => {
  await using n = await twoNodes();
  n.sb.spawn(() => new Gate(), { name: "gate" });
  const gate = n.sa.refFor<GateMsg>({ node: "b", path: "/user/gate" });
  const answer = gate.ask<string>("wait");
  // The gate is not blocked by the parked ask: it handles the next message.
  assertEquals(await gate.ask("release"), "ok");
  assertEquals(await answer, "released after wait,release");
  assertEquals(await gate.ask("log"), ["wait", "release", "log"]);
  // A deferred rejection rejects only that ask, typed, and the actor lives on.
  const err = await assertRejects(gate.ask("fail-later"), RemoteError);
  assertEquals([err.name, err.message], ["TypeError", "not today"]);
  assertEquals((await gate.ask<string[]>("log")).length, 5);
});

/** Records the trace context of what it handles. */
class TraceProbe extends Actor<string> {
  static seen: (string | undefined)[] = [];
  receive(msg: string) {
    TraceProbe.seen.push(this.ctx.traceparent);
    return msg;
  }
}

/** Handles a traced message by asking the remote probe (pass-through propagation). */
class Caller extends Actor<string> {
  receive(msg: string) {
    const probe = this.ctx.system.refFor<string>({
      node: "b",
      path: "/user/probe",
    });
    return probe.ask(msg);
  }
}

Deno.test("cluster + runtime: the envelope's traceparent is the receiving handler's ctx.traceparent, also through a chain", async () => {
  await using n = await twoNodes();
  TraceProbe.seen = [];
  n.sb.spawn(() => new TraceProbe(), { name: "probe" });
  n.sa.spawn(() => new Caller(), { name: "caller" });
  // A plain remote ask: the fresh traceparent the sender made arrives.
  assertEquals(
    await n.sa.refFor({ node: "b", path: "/user/probe" }).ask("direct"),
    "direct",
  );
  assert(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/.test(TraceProbe.seen[0]!));
  // A message that arrives traced (as from another node, or an HTTP edge
  // that started a span) keeps its trace when its handler asks onwards.
  const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  const answer = Promise.withResolvers<unknown>();
  n.sa.deliverWithReply("/user/caller", "chained", {
    traceparent: tp,
    resolve: answer.resolve,
    reject: answer.reject,
  });
  assertEquals(await answer.promise, "chained");
  assertEquals(TraceProbe.seen[1], tp);
});
