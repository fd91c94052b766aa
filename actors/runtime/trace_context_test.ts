import { Actor, ActorSystem, messageTraceparent } from "./mod.ts";
import type { Reply } from "./types.ts";
import { assertEquals, gate } from "./_test_util.ts";

const TP = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

function reply(traceparent?: string): Reply & { promise: Promise<unknown> } {
  const { promise, resolve, reject } = Promise.withResolvers<unknown>();
  return { promise, resolve, reject, traceparent };
}

type Seen = { ctx: string | undefined; sync: string | undefined };

/** Answers with the trace it sees, before and after an await; forwards to `next` when asked to. */
class Probe extends Actor<{ next?: string; tell?: string }> {
  static seen: Seen[] = [];
  async receive(msg: { next?: string; tell?: string }) {
    const sync = messageTraceparent();
    if (msg.tell) {
      this.ctx.system.refFor({ node: this.ctx.self.node, path: msg.tell })
        .tell({});
    }
    const forwarded = msg.next === undefined ? undefined : this.ctx.system
      .refFor({ node: this.ctx.self.node, path: msg.next }).ask({});
    await Promise.resolve();
    Probe.seen.push({ ctx: this.ctx.traceparent, sync });
    return await forwarded ?? "done";
  }
}

Deno.test("trace context: a traced message's traceparent is ctx.traceparent (across awaits) and passes to what the handler sends", async () => {
  const system = new ActorSystem({ nodeId: "t" });
  Probe.seen = [];
  for (const name of ["a", "b", "c"]) {
    system.spawn(() => new Probe(), { name });
  }
  const r = reply(TP);
  system.deliverWithReply("/user/a", { next: "/user/b", tell: "/user/c" }, r);
  assertEquals(await r.promise, "done");
  await new Promise((res) => setTimeout(res, 0));
  // c (told) and b (asked) finish first, then a; all saw the same trace.
  assertEquals(Probe.seen.length, 3);
  for (const s of Probe.seen) assertEquals(s, { ctx: TP, sync: TP });
  // An untraced message has none, and nothing leaks between messages.
  Probe.seen = [];
  await system.refFor({ node: "t", path: "/user/a" }).ask({});
  assertEquals(Probe.seen, [{ ctx: undefined, sync: undefined }]);
  assertEquals(messageTraceparent(), undefined);
  await system.shutdown();
});

Deno.test("trace context: a malformed traceparent is not handed out, and a traced tell carries its trace too", async () => {
  const system = new ActorSystem({ nodeId: "t" });
  const seen: (string | undefined)[] = [];
  const done = gate();
  system.spawn(() =>
    new (class extends Actor<string> {
      receive() {
        seen.push(this.ctx.traceparent);
        if (seen.length === 2) done.open();
      }
    })(), { name: "p" });
  system.deliver("/user/p", "x", "not-a-traceparent");
  system.deliver("/user/p", "y", TP);
  await done.promise;
  assertEquals(seen, [undefined, TP]);
  await system.shutdown();
});
