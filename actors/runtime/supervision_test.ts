import {
  affectedChildren,
  decideDirective,
  DEFAULT_STRATEGY,
  resolveStrategy,
  restartInOrder,
  RestartIntensity,
  superviseFailure,
} from "./supervision.ts";
import type { ActorRef } from "./types.ts";
import { assertEquals } from "./_test_util.ts";

Deno.test("affected children per strategy", () => {
  const kids = ["a", "b", "c", "d"];
  assertEquals(affectedChildren("one_for_one", kids, "b"), ["b"]);
  assertEquals(affectedChildren("one_for_all", kids, "b"), kids);
  assertEquals(affectedChildren("rest_for_one", kids, "b"), ["b", "c", "d"]);
});

Deno.test("restart intensity allows N in the window, then refuses", () => {
  const ri = new RestartIntensity();
  assertEquals(ri.allow(2, 1000, 0), true);
  assertEquals(ri.allow(2, 1000, 10), true);
  assertEquals(ri.allow(2, 1000, 20), false);
  // The first restart leaves the window.
  assertEquals(ri.allow(2, 1000, 1000), true);
  assertEquals(ri.allow(0, 1000, 5000), false);
});

Deno.test("defaults and a throwing decider", () => {
  assertEquals(resolveStrategy(undefined), DEFAULT_STRATEGY);
  const s = resolveStrategy({ kind: "one_for_all", maxRestarts: 1 });
  assertEquals([s.kind, s.maxRestarts, s.withinMs], ["one_for_all", 1, 5000]);
  const bad = resolveStrategy({
    kind: "one_for_one",
    decide: () => {
      throw new Error("bug");
    },
  });
  assertEquals(decideDirective(bad, new Error(), {} as ActorRef), "escalate");
});

Deno.test("superviseFailure: directive, intensity turned escalation, the children a restart touches", async () => {
  const ref = {} as ActorRef;
  const live = () => ["a", "b", "c"];
  const ri = new RestartIntensity();
  const rest = { kind: "rest_for_one" as const, maxRestarts: 1 };
  assertEquals(superviseFailure(rest, ri, new Error(), "b", ref, live, 0), {
    kind: "restart",
    children: ["b", "c"],
  });
  assertEquals(
    superviseFailure(rest, ri, new Error(), "b", ref, live, 1).kind,
    "escalate",
  );
  const resume = {
    kind: "one_for_one" as const,
    decide: () => "resume" as const,
  };
  assertEquals(
    superviseFailure(resume, ri, new Error(), "a", ref, live, 2).kind,
    "resume",
  );
  const steps: string[] = [];
  await restartInOrder(["a", "b"], (c, step) => {
    steps.push(`${step} ${c}`);
    return Promise.resolve();
  });
  assertEquals(steps, ["down b", "down a", "up a", "up b"]);
});

// ------------------------------------------------- supervision, end to end

import { Actor, ActorSystem } from "./mod.ts";
import type { Directive, SupervisorStrategy, Terminated } from "./types.ts";
import { assert, assertRejects, quietLogger, until } from "./_test_util.ts";

class Boom extends Error {
  override name = "Boom";
}

/** A child counting its messages; "crash" throws; logs its lifecycle. */
class Worker extends Actor<string> {
  count = 0;
  constructor(readonly label: string, readonly events: string[]) {
    super();
  }
  override preStart() {
    this.events.push(`start ${this.label}`);
  }
  override preRestart() {
    this.events.push(`preRestart ${this.label}`);
  }
  override postStop() {
    this.events.push(`stop ${this.label}`);
  }
  receive(m: string) {
    if (m === "crash") throw new Boom(this.label);
    if (m === "inc") this.count++;
    return this.count;
  }
}

/** A supervisor starting workers a, b, c with the given strategy. */
class Sup extends Actor<string> {
  constructor(
    readonly strategy: SupervisorStrategy,
    readonly events: string[],
  ) {
    super();
  }
  override supervisorStrategy() {
    return this.strategy;
  }
  override preStart() {
    for (const n of ["a", "b", "c"]) {
      this.ctx.spawn(() => new Worker(n, this.events), { name: n });
    }
  }
  receive() {}
}

async function setup(strategy: SupervisorStrategy) {
  const q = quietLogger();
  const system = new ActorSystem({ nodeId: "t", logger: q.logger });
  const events: string[] = [];
  const sup = system.spawn(() => new Sup(strategy, events), { name: "sup" });
  await until(() => events.length === 3, "workers started");
  const ref = (n: string) =>
    system.refFor<string>({ node: "t", path: `/user/sup/${n}` });
  for (const n of ["a", "b", "c"]) await ref(n).ask("inc");
  events.length = 0;
  return { system, events, sup, ref, log: q.lines };
}

async function counts(ref: (n: string) => { ask<R>(m: string): Promise<R> }) {
  return [
    await ref("a").ask("get"),
    await ref("b").ask("get"),
    await ref("c").ask("get"),
  ];
}

Deno.test("one_for_one: only the crashed child restarts (state reset)", async () => {
  const { system, events, ref } = await setup({ kind: "one_for_one" });
  await assertRejects(ref("b").ask("crash"), Boom);
  await until(() => events.length === 2, "restart");
  assertEquals(await counts(ref), [1, 0, 1]);
  assertEquals(events, ["preRestart b", "start b"]);
  await system.shutdown();
});

Deno.test("one_for_all: every sibling restarts, torn down in reverse order", async () => {
  const { system, events, ref } = await setup({ kind: "one_for_all" });
  await assertRejects(ref("b").ask("crash"), Boom);
  await until(() => events.length === 6, "restarts");
  assertEquals(await counts(ref), [0, 0, 0]);
  assertEquals(events, [
    "preRestart c",
    "preRestart b",
    "preRestart a",
    "start a",
    "start b",
    "start c",
  ]);
  await system.shutdown();
});

Deno.test("rest_for_one: the crashed child and those started after it restart", async () => {
  const { system, events, ref } = await setup({ kind: "rest_for_one" });
  await assertRejects(ref("b").ask("crash"), Boom);
  await until(() => events.length === 4, "restarts");
  assertEquals(await counts(ref), [1, 0, 0]);
  assertEquals(events, ["preRestart c", "preRestart b", "start b", "start c"]);
  await system.shutdown();
});

Deno.test("resume keeps the instance and its state; the failing message is not retried", async () => {
  const { system, events, ref } = await setup({
    kind: "one_for_one",
    decide: () => "resume",
  });
  await ref("b").ask("inc");
  await assertRejects(ref("b").ask("crash"), Boom);
  assertEquals(await ref("b").ask("get"), 2);
  assertEquals(events, []);
  await system.shutdown();
});

Deno.test("stop directive stops the failed child only", async () => {
  const { system, events, ref } = await setup({
    kind: "one_for_one",
    decide: (e): Directive => (e instanceof Boom ? "stop" : "restart"),
  });
  await assertRejects(ref("b").ask("crash"), Boom);
  await until(
    () => system.registry.get("/user/sup/b") === undefined,
    "b stopped",
  );
  assertEquals(events, ["stop b"]);
  assertEquals(await ref("a").ask("get"), 1);
  await system.shutdown();
});

Deno.test("restart intensity exceeded: the supervisor escalates to its parent, which restarts it and its children", async () => {
  const q = quietLogger();
  const system = new ActorSystem({ nodeId: "t", logger: q.logger });
  const events: string[] = [];
  let supStarts = 0;
  const failures: string[] = [];
  class Top extends Actor<unknown> {
    override supervisorStrategy(): SupervisorStrategy {
      return {
        kind: "one_for_one",
        decide: (e) => {
          failures.push(String(e));
          return "restart";
        },
      };
    }
    override preStart() {
      this.ctx.spawn(() => {
        supStarts++;
        return new Sup({
          kind: "one_for_one",
          maxRestarts: 2,
          withinMs: 60_000,
        }, events);
      }, { name: "sup" });
    }
    receive() {}
  }
  system.spawn(() => new Top(), { name: "top" });
  await until(() => events.length === 3, "workers started");
  const a = system.refFor<string>({ node: "t", path: "/user/top/sup/a" });
  await assertRejects(a.ask("crash"), Boom);
  await assertRejects(a.ask("crash"), Boom);
  await until(() => events.filter((e) => e === "start a").length === 3);
  assertEquals(failures, [], "two restarts are within the intensity");
  events.length = 0;
  await assertRejects(a.ask("crash"), Boom); // the third: escalate
  await until(() => supStarts === 2, "supervisor restarted");
  await until(() => events.filter((e) => e.startsWith("start")).length === 3);
  assertEquals(failures, ["Boom: a"]);
  // Restarting the supervisor stopped its children, then its preStart made new ones.
  assertEquals(events, [
    "stop c",
    "stop b",
    "stop a",
    "start a",
    "start b",
    "start c",
  ]);
  assertEquals(await a.ask("get"), 0);
  await system.shutdown();
});

Deno.test("escalation at the guardian stops that actor and logs", async () => {
  const q = quietLogger();
  const system = new ActorSystem({
    nodeId: "t",
    logger: q.logger,
    guardianStrategy: { kind: "one_for_one", maxRestarts: 0 },
  });
  const got: Terminated[] = [];
  const bad = system.spawn(() =>
    new (class extends Actor<string> {
      receive(): void {
        throw new Boom("top");
      }
    })(), { name: "bad" });
  system.spawn(() =>
    new (class extends Actor<unknown> {
      override preStart() {
        this.ctx.watch(bad);
      }
      override onTerminated(t: Terminated) {
        got.push(t);
      }
      receive() {}
    })()
  );
  await assertRejects(bad.ask("x"), Boom);
  await until(() => got.length === 1, "Terminated");
  assertEquals(got[0].reason, { kind: "failure", error: "Boom: top" });
  assert(
    q.lines.some((l) =>
      l.level === "error" &&
      l.message.includes("/user/bad failed and escalated")
    ),
  );
  await system.shutdown();
});

Deno.test("a failing preStart counts as a failure and is restarted", async () => {
  const q = quietLogger();
  const system = new ActorSystem({ nodeId: "t", logger: q.logger });
  let attempts = 0;
  const ref = system.spawn(() =>
    new (class extends Actor<string> {
      override preStart() {
        if (++attempts < 3) throw new Boom("init");
      }
      receive() {
        return attempts;
      }
    })()
  );
  assertEquals(await ref.ask("x"), 3);
  await system.shutdown();
});
