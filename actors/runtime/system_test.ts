import { Actor, ActorStoppingError, ActorSystem } from "./mod.ts";
import {
  type Address,
  type AskOptions,
  DeadLetterError,
  type Terminated,
  type Transport,
} from "./types.ts";
import {
  assert,
  assertEquals,
  assertRejects,
  assertThrows,
  quietLogger,
  until,
} from "./_test_util.ts";

/** A transport that records what the runtime hands it. */
class FakeTransport implements Transport {
  tells: { to: Address; msg: unknown }[] = [];
  watches: string[] = [];
  unwatches: string[] = [];
  tell(to: Address, msg: unknown): void {
    this.tells.push({ to, msg });
  }
  ask(to: Address, msg: unknown, options: AskOptions): Promise<unknown> {
    return Promise.resolve({ to, msg, timeoutMs: options.timeoutMs });
  }
  watch(target: Address, watcher: Address): void {
    this.watches.push(
      `${target.node}${target.path} <- ${watcher.node}${watcher.path}`,
    );
  }
  unwatch(target: Address, watcher: Address): void {
    this.unwatches.push(
      `${target.node}${target.path} <- ${watcher.node}${watcher.path}`,
    );
  }
}

class Echo extends Actor<unknown> {
  receive(m: unknown) {
    return m;
  }
}

function newSystem() {
  return new ActorSystem({ nodeId: "n1", logger: quietLogger().logger });
}

Deno.test("a ref to another node goes through the transport, or becomes a dead letter without one", async () => {
  const system = newSystem();
  const remote = system.refFor({ node: "n2", path: "/user/x" });
  remote.tell("lost");
  await assertRejects(remote.ask("lost too"), DeadLetterError);
  assertEquals(system.deadLetters.count, 2);
  const t = new FakeTransport();
  system.setTransport(t);
  remote.tell("hello");
  assertEquals(t.tells, [{
    to: { node: "n2", path: "/user/x" },
    msg: "hello",
  }]);
  assertEquals(await remote.ask("q", { timeoutMs: 7 }), {
    to: { node: "n2", path: "/user/x" },
    msg: "q",
    timeoutMs: 7,
  });
  assertEquals(remote.toJSON(), { $ref: { node: "n2", path: "/user/x" } });
  await system.shutdown();
});

Deno.test("deliver and deliverAsk reach local actors by path", async () => {
  const system = newSystem();
  const got: unknown[] = [];
  system.spawn(() =>
    new (class extends Actor<unknown> {
      receive(m: unknown) {
        got.push(m);
        return "answer";
      }
    })(), { name: "a" });
  assert(system.deliver("/user/a", 1));
  assertEquals(await system.deliverAsk("/user/a", 2), "answer");
  assertEquals(got, [1, 2]);
  assertEquals(system.deliver("/user/none", 3), false);
  await assertRejects(system.deliverAsk("/user/none", 4), DeadLetterError);
  await system.shutdown();
});

Deno.test("remote death watch: watch/unwatch go to the transport, signalTerminated reaches onTerminated", async () => {
  const system = newSystem();
  const t = new FakeTransport();
  system.setTransport(t);
  const got: Terminated[] = [];
  const remote = system.refFor({ node: "n2", path: "/user/r" });
  const other = system.refFor({ node: "n2", path: "/user/o" });
  const w = system.spawn(() =>
    new (class extends Actor<string> {
      override preStart() {
        this.ctx.watch(remote);
        this.ctx.watch(other);
        this.ctx.unwatch(other);
      }
      override onTerminated(t: Terminated) {
        got.push(t);
      }
      receive() {}
    })(), { name: "w" });
  await w.ask("sync");
  assertEquals(t.watches, ["n2/user/r <- n1/user/w", "n2/user/o <- n1/user/w"]);
  assertEquals(t.unwatches, ["n2/user/o <- n1/user/w"]);
  system.signalTerminated({ node: "n2", path: "/user/r" }, {
    kind: "node-down",
    node: "n2",
  });
  await until(() => got.length === 1);
  assertEquals([got[0].ref.node, got[0].ref.path, got[0].reason], [
    "n2",
    "/user/r",
    { kind: "node-down", node: "n2" },
  ]);
  await system.shutdown();
});

Deno.test("signalNodeDown terminates every watch of that node", async () => {
  const system = newSystem();
  system.setTransport(new FakeTransport());
  const got: string[] = [];
  system.spawn(() =>
    new (class extends Actor<string> {
      override preStart() {
        this.ctx.watch(system.refFor({ node: "n3", path: "/user/a" }));
        this.ctx.watch(system.refFor({ node: "n3", path: "/user/b" }));
      }
      override onTerminated(t: Terminated) {
        got.push(`${t.ref.path} ${t.reason.kind}`);
      }
      receive() {}
    })()
  );
  await until(() => true);
  system.signalNodeDown("n3");
  await until(() => got.length === 2);
  assertEquals(got.sort(), ["/user/a node-down", "/user/b node-down"]);
  await system.shutdown();
});

Deno.test("watchFor: a remote watcher gets Terminated through the transport", async () => {
  const system = newSystem();
  const t = new FakeTransport();
  system.setTransport(t);
  const a = system.spawn(() => new Echo(), { name: "a" });
  system.spawn(() => new Echo(), { name: "b" });
  system.watchFor("/user/a", { node: "n2", path: "/user/w" });
  system.watchFor("/user/b", { node: "n2", path: "/user/w" });
  system.unwatchFor("/user/b", { node: "n2", path: "/user/w" });
  system.watchFor("/user/gone", { node: "n2", path: "/user/w" });
  await system.stop(a);
  await system.stop(system.refFor({ node: "n1", path: "/user/b" }));
  const sent = t.tells.map(({ to, msg }) => {
    const m = msg as Terminated;
    return [to.path, m.type, m.ref.path, m.reason.kind];
  });
  assertEquals(sent, [
    ["/user/w", "Terminated", "/user/gone", "normal"],
    ["/user/w", "Terminated", "/user/a", "normal"],
  ]);
  // The ref inside travels as { $ref }.
  assertEquals(JSON.parse(JSON.stringify(t.tells[1].msg)).ref, {
    $ref: { node: "n1", path: "/user/a" },
  });
  await system.shutdown();
});

Deno.test("watching a remote ref without a transport: Terminated (node-down) at once", async () => {
  const system = newSystem();
  const got: string[] = [];
  system.spawn(() =>
    new (class extends Actor<string> {
      override preStart() {
        this.ctx.watch(system.refFor({ node: "n9", path: "/user/z" }));
      }
      override onTerminated(t: Terminated) {
        got.push(t.reason.kind);
      }
      receive() {}
    })()
  );
  await until(() => got.length === 1);
  assertEquals(got, ["node-down"]);
  await system.shutdown();
});

Deno.test("after shutdown: spawn throws, messages are dead letters", async () => {
  const system = newSystem();
  const a = system.spawn(() => new Echo(), { name: "a" });
  await system.shutdown();
  assertThrows(() => system.spawn(() => new Echo()), ActorStoppingError);
  a.tell("x");
  await assertRejects(a.ask("y"), DeadLetterError);
  assertEquals(system.deadLetters.count, 2);
  await system.shutdown(); // idempotent
});

Deno.test("ctx: self, parent, children, child, stop(child)", async () => {
  const system = newSystem();
  const seen: unknown[] = [];
  const p = system.spawn(() =>
    new (class extends Actor<string> {
      override preStart() {
        this.ctx.spawn(() => new Echo(), { name: "k1" });
        this.ctx.spawn(() => new Echo(), { name: "k2" });
      }
      async receive(m: string) {
        if (m === "info") {
          return [
            this.ctx.self.path,
            this.ctx.parent?.path,
            this.ctx.children().map((c) => c.path),
            this.ctx.child("k2")?.path,
          ];
        }
        await this.ctx.stop(this.ctx.child("k1"));
        seen.push(this.ctx.children().length);
        this.ctx.stop();
      }
    })(), { name: "p" });
  assertEquals(await p.ask("info"), ["/user/p", "/user", [
    "/user/p/k1",
    "/user/p/k2",
  ], "/user/p/k2"]);
  await p.ask("stop k1 then self");
  await until(() => system.registry.get("/user/p") === undefined);
  assertEquals(seen, [1]);
  await system.shutdown();
});

Deno.test("telemetry: mailbox depths above a threshold, dead letters by reason", async () => {
  const system = new ActorSystem({ nodeId: "t", logger: quietLogger().logger });
  const hold = Promise.withResolvers<void>();
  class Slow extends Actor<string> {
    receive() {
      return hold.promise;
    }
  }
  const slow = system.spawn(() => new Slow(), { name: "slow" });
  system.spawn(() => new Slow(), { name: "idle" });
  for (let i = 0; i < 6; i++) slow.tell("m");
  await new Promise((r) => setTimeout(r, 0));
  // One message is being handled, five wait.
  assertEquals([...system.mailboxDepths(3)], [{
    path: "/user/slow",
    depth: 5,
  }]);
  assertEquals([...system.mailboxDepths(6)], []);
  assertEquals(system.actorCount, 3); // the guardian, slow, idle
  system.refFor({ node: "t", path: "/user/nobody" }).tell("lost");
  system.refFor({ node: "t", path: "/user/nobody" }).tell("lost");
  system.refFor({ node: "elsewhere", path: "/user/x" }).tell("lost");
  assertEquals(system.deadLetters.byReason(), {
    "no such actor": 2,
    "no transport": 1,
  });
  hold.resolve();
  await system.shutdown();
});

Deno.test("deliverWithReply: answers through the given reply, rejects for a missing actor and a full mailbox", async () => {
  const system = new ActorSystem({ nodeId: "t", logger: quietLogger().logger });
  const hold = Promise.withResolvers<void>();
  class Echo extends Actor<string> {
    receive(m: string) {
      return m === "block" ? hold.promise.then(() => m) : m;
    }
  }
  system.spawn(() => new Echo(), { name: "echo", mailboxBound: 1 });
  const answer = (path: string, msg: string) => {
    const { promise, resolve, reject } = Promise.withResolvers<unknown>();
    system.deliverWithReply(path, msg, { resolve, reject });
    return promise;
  };
  assertEquals(await answer("/user/echo", "hi"), "hi");
  await assertRejects(answer("/user/none", "hi"), DeadLetterError);
  const blocked = answer("/user/echo", "block");
  await new Promise((r) => setTimeout(r, 0));
  const queued = answer("/user/echo", "queued");
  const over = await answer("/user/echo", "over").catch((e) => e);
  assertEquals((over as Error).name, "MailboxOverflowError");
  hold.resolve();
  assertEquals(await blocked, "block");
  assertEquals(await queued, "queued");
  await system.shutdown();
});
