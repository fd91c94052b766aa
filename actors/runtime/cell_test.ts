import { Actor, ActorSystem } from "./mod.ts";
import {
  AskTimeoutError,
  DeadLetterError,
  MailboxOverflowError,
  type Terminated,
} from "./types.ts";
import {
  assert,
  assertEquals,
  assertRejects,
  assertThrows,
  gate,
  quietLogger,
  until,
} from "./_test_util.ts";
import { InvalidActorNameError } from "./errors.ts";

function newSystem() {
  const q = quietLogger();
  return {
    system: new ActorSystem({ nodeId: "t", logger: q.logger }),
    log: q.lines,
  };
}

class Recorder extends Actor<unknown> {
  seen: unknown[] = [];
  receive(msg: unknown): unknown {
    if (msg === "seen") return this.seen;
    this.seen.push(msg);
    return undefined;
  }
}

Deno.test("100,000 messages arrive in order", async () => {
  const { system } = newSystem();
  let next = 0;
  let outOfOrder = 0;
  const ref = system.spawn(() =>
    new (class extends Actor<number | "n"> {
      receive(m: number | "n") {
        if (m === "n") return next;
        if (m !== next) outOfOrder++;
        next = m + 1;
      }
    })()
  );
  for (let i = 0; i < 100_000; i++) ref.tell(i);
  assertEquals(await ref.ask("n"), 100_000);
  assertEquals(outOfOrder, 0);
  await system.shutdown();
});

Deno.test("async handlers run one at a time, in order", async () => {
  const { system } = newSystem();
  let inFlight = 0;
  let maxInFlight = 0;
  const order: number[] = [];
  const ref = system.spawn(() =>
    new (class extends Actor<number> {
      async receive(m: number) {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        // Later messages finish faster: overlap would reorder them.
        await new Promise((r) => setTimeout(r, 5 - m));
        order.push(m);
        inFlight--;
        return m * 10;
      }
    })()
  );
  const answers = await Promise.all([0, 1, 2, 3, 4].map((m) => ref.ask(m)));
  assertEquals(answers, [0, 10, 20, 30, 40]);
  assertEquals(order, [0, 1, 2, 3, 4]);
  assertEquals(maxInFlight, 1);
  await system.shutdown();
});

Deno.test("a thrown error rejects the ask and the actor keeps serving (restarted)", async () => {
  const { system } = newSystem();
  let starts = 0;
  const ref = system.spawn(() =>
    new (class extends Actor<string> {
      override preStart() {
        starts++;
      }
      receive(m: string) {
        if (m === "boom") throw new TypeError("boom");
        return m.toUpperCase();
      }
    })()
  );
  await assertRejects(ref.ask("boom"), TypeError);
  assertEquals(await ref.ask("ok"), "OK");
  assertEquals(starts, 2);
  await system.shutdown();
});

Deno.test("ask times out with AskTimeoutError", async () => {
  const { system } = newSystem();
  const release = gate();
  const ref = system.spawn(() =>
    new (class extends Actor<string> {
      receive() {
        return release.promise;
      }
    })()
  );
  const e = await assertRejects(
    ref.ask("x", { timeoutMs: 20 }),
    AskTimeoutError,
  );
  assertEquals([e.to.path, e.timeoutMs], [ref.path, 20]);
  release.open();
  await system.shutdown();
});

Deno.test("ask to a stopped or nonexistent actor rejects with DeadLetterError", async () => {
  const { system } = newSystem();
  const ref = system.spawn(() => new Recorder(), { name: "r" });
  await system.stop(ref);
  // A long timeout: the rejection must come from the dead letter, not the timer.
  await assertRejects(ref.ask("x", { timeoutMs: 60_000 }), DeadLetterError);
  const ghost = system.refFor({ node: "t", path: "/user/nobody" });
  await assertRejects(ghost.ask("x", { timeoutMs: 60_000 }), DeadLetterError);
  assertEquals(system.deadLetters.count, 2);
  await system.shutdown();
});

Deno.test("ask with an aborted signal rejects with its reason", async () => {
  const { system } = newSystem();
  const ref = system.spawn(() => new Recorder());
  const c = new AbortController();
  const p = ref.ask("x", { signal: c.signal });
  c.abort(new RangeError("stop"));
  await assertRejects(p, RangeError);
  await system.shutdown();
});

Deno.test("bounded mailbox: tell beyond the bound throws MailboxOverflowError", async () => {
  const { system } = newSystem();
  const release = gate();
  const ref = system.spawn(() =>
    new (class extends Actor<string> {
      receive(m: string) {
        if (m === "block") return release.promise;
      }
    })(), { mailboxBound: 2 });
  ref.tell("block");
  await until(() => true); // "block" is being handled, the mailbox is empty
  ref.tell("a");
  ref.tell("b");
  const e = assertThrows(() => ref.tell("c"), MailboxOverflowError);
  assertEquals(e.bound, 2);
  await assertRejects(ref.ask("d"), MailboxOverflowError);
  release.open();
  await system.shutdown();
});

Deno.test("system lane first: a stop overtakes queued user messages", async () => {
  const { system } = newSystem();
  const release = gate();
  const handled: string[] = [];
  const ref = system.spawn(() =>
    new (class extends Actor<string> {
      receive(m: string) {
        handled.push(m);
        if (m === "block") return release.promise;
      }
    })()
  );
  ref.tell("block");
  await until(() => handled.length === 1);
  for (const m of ["u1", "u2", "u3"]) ref.tell(m);
  const stopped = system.stop(ref);
  release.open();
  await stopped;
  assertEquals(handled, ["block"]);
  assertEquals(system.deadLetters.count, 3);
  await system.shutdown();
});

Deno.test("system lane first: Terminated is handled before queued user messages", async () => {
  const { system } = newSystem();
  const release = gate();
  const handled: string[] = [];
  const target = system.spawn(() => new Recorder(), { name: "target" });
  const watcher = system.spawn(() =>
    new (class extends Actor<string> {
      override preStart() {
        this.ctx.watch(target);
      }
      override onTerminated(t: Terminated) {
        handled.push(`terminated ${t.ref.path}`);
      }
      receive(m: string) {
        handled.push(m);
        if (m === "block") return release.promise;
      }
    })()
  );
  watcher.tell("block");
  await until(() => handled.length === 1);
  watcher.tell("u1");
  watcher.tell("u2");
  await system.stop(target);
  release.open();
  await until(() => handled.length === 4);
  assertEquals(handled, ["block", "terminated /user/target", "u1", "u2"]);
  await system.shutdown();
});

Deno.test("stopping a tree: postStop children first, in reverse start order", async () => {
  const { system } = newSystem();
  const stops: string[] = [];
  class Node extends Actor<unknown> {
    constructor(readonly label: string, readonly kids: string[]) {
      super();
    }
    override preStart() {
      for (const k of this.kids) {
        this.ctx.spawn(
          () =>
            new Node(
              `${this.label}.${k}`,
              this.label === "root" ? ["x", "y"] : [],
            ),
          { name: k },
        );
      }
    }
    override postStop() {
      stops.push(this.label);
    }
    receive() {}
  }
  const root = system.spawn(() => new Node("root", ["a", "b", "c"]), {
    name: "root",
  });
  await until(() => system.registry.get("/user/root/c/y") !== undefined);
  await system.stop(root);
  assertEquals(stops, [
    "root.c.y",
    "root.c.x",
    "root.c",
    "root.b.y",
    "root.b.x",
    "root.b",
    "root.a.y",
    "root.a.x",
    "root.a",
    "root",
  ]);
  assertEquals(system.registry.get("/user/root/a"), undefined);
  await system.shutdown();
});

Deno.test("a slow postStop hits the shutdown deadline and is abandoned", async () => {
  const { system, log } = newSystem();
  const release = gate();
  let postStopDone = false;
  let parentPostStop = false;
  const parent = system.spawn(() =>
    new (class extends Actor<unknown> {
      override preStart() {
        this.ctx.spawn(() =>
          new (class extends Actor<unknown> {
            override async postStop() {
              await release.promise;
              postStopDone = true;
            }
            receive() {}
          })(), { name: "slow", shutdownMs: 30 });
      }
      override postStop() {
        parentPostStop = true;
      }
      receive() {}
    })(), { name: "p" });
  await until(() => system.registry.get("/user/p/slow") !== undefined);
  await system.stop(parent);
  assert(parentPostStop, "parent stopped after the deadline passed");
  assert(!postStopDone, "the slow postStop was not waited for");
  assert(
    log.some((l) =>
      l.message.includes("/user/p/slow did not stop within 30 ms")
    ),
  );
  release.open();
  await until(() => postStopDone);
  await system.shutdown();
});

Deno.test("death watch: Terminated with the reason, and at once for the already dead", async () => {
  const { system } = newSystem();
  const got: Terminated[] = [];
  const dead = system.spawn(() => new Recorder(), { name: "dead" });
  await system.stop(dead);
  const target = system.spawn(() =>
    new (class extends Actor<string> {
      receive(): void {
        throw new Error("bad");
      }
    })(), { name: "target" });
  system.spawn(() =>
    new (class extends Actor<unknown> {
      override supervisorStrategy() {
        return { kind: "one_for_one" as const };
      }
      override preStart() {
        this.ctx.watch(dead);
        this.ctx.watch(target);
      }
      override onTerminated(t: Terminated) {
        got.push(t);
      }
      receive() {}
    })()
  );
  await until(() => got.length === 1);
  assertEquals(got[0].ref.path, "/user/dead");
  await system.stop(target);
  await until(() => got.length === 2);
  assertEquals([got[1].ref.path, got[1].reason], ["/user/target", {
    kind: "normal",
  }]);
  await system.shutdown();
});

Deno.test("unwatch: no Terminated after it", async () => {
  const { system } = newSystem();
  const got: string[] = [];
  const a = system.spawn(() => new Recorder(), { name: "a" });
  const b = system.spawn(() => new Recorder(), { name: "b" });
  const w = system.spawn(() =>
    new (class extends Actor<string> {
      override preStart() {
        this.ctx.watch(a);
        this.ctx.watch(b);
        this.ctx.unwatch(a);
      }
      override onTerminated(t: Terminated) {
        got.push(t.ref.path);
      }
      receive() {}
    })()
  );
  await w.ask("sync");
  await system.stop(a);
  await system.stop(b);
  await until(() => got.length === 1);
  await w.ask("sync");
  assertEquals(got, ["/user/b"]);
  await system.shutdown();
});

Deno.test("dead letters are counted and observable", async () => {
  const { system } = newSystem();
  const seen: string[] = [];
  const off = system.deadLetters.subscribe((d) =>
    seen.push(`${d.to.path}:${d.message}:${d.reason}`)
  );
  system.refFor({ node: "t", path: "/user/none" }).tell("hello");
  assertEquals(system.deliver("/user/none", "again"), false);
  off();
  assertEquals(system.deadLetters.count, 2);
  assertEquals(seen, [
    "/user/none:hello:no such actor",
    "/user/none:again:no such actor",
  ]);
  await system.shutdown();
});

Deno.test("spawn: names are unique among siblings and well-formed", async () => {
  const { system } = newSystem();
  system.spawn(() => new Recorder(), { name: "x" });
  assertThrows(
    () => system.spawn(() => new Recorder(), { name: "x" }),
    InvalidActorNameError,
  );
  assertThrows(
    () => system.spawn(() => new Recorder(), { name: "a/b" }),
    InvalidActorNameError,
  );
  const anon = system.spawn(() => new Recorder());
  assert(anon.path.startsWith("/user/$"));
  assertEquals(system.refFor({ node: "t", path: "/user/x" }).path, "/user/x");
  await system.shutdown();
});

Deno.test("a ref outlives an incarnation: it reaches the next actor at its path", async () => {
  const { system } = newSystem();
  const r1 = system.spawn(() => new Recorder(), { name: "n" });
  await system.stop(r1);
  const r2 = system.spawn(() => new Recorder(), { name: "n" });
  r1.tell("via old ref");
  assertEquals(await r2.ask("seen"), ["via old ref"]);
  assertEquals(JSON.stringify(r1), '{"$ref":{"node":"t","path":"/user/n"}}');
  await system.shutdown();
});

Deno.test("the dispatcher yields to the event loop while draining a long mailbox", async () => {
  const { system } = newSystem();
  let timerFiredAt = -1;
  let handled = 0;
  const ref = system.spawn(() =>
    new (class extends Actor<number | "n"> {
      receive(m: number | "n") {
        if (m === "n") return handled;
        handled++;
      }
    })()
  );
  setTimeout(() => timerFiredAt = handled, 0);
  for (let i = 0; i < 200_000; i++) ref.tell(i);
  assertEquals(await ref.ask("n"), 200_000);
  assert(
    timerFiredAt >= 0 && timerFiredAt < 200_000,
    `timer ran mid-drain (${timerFiredAt})`,
  );
  await system.shutdown();
});
