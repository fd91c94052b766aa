import { Actor, ActorSystem } from "./mod.ts";
import { DeadLetterError } from "./types.ts";
import {
  assert,
  assertEquals,
  assertRejects,
  gate,
  quietLogger,
  until,
} from "./_test_util.ts";

/** A stand-in for a durable store. */
type Store = Map<string, number>;

type Msg = { add: number } | "get";

/** An entity that persists its total on every change and reloads it in preStart. */
class Account extends Actor<Msg> {
  total = 0;
  constructor(
    readonly id: string,
    readonly store: Store,
    readonly log: string[],
  ) {
    super();
  }
  override preStart() {
    this.total = this.store.get(this.id) ?? 0;
    this.log.push(`activate ${this.id} total=${this.total}`);
  }
  override postStop() {
    this.log.push(`passivate ${this.id}`);
  }
  receive(m: Msg) {
    if (m === "get") return this.total;
    this.total += m.add;
    this.store.set(this.id, this.total);
    return this.total;
  }
}

function newSystem() {
  return new ActorSystem({ nodeId: "t", logger: quietLogger().logger });
}

Deno.test("an entity activates on its first message, passivates when idle, reactivates with its state reloaded", async () => {
  const system = newSystem();
  const store: Store = new Map();
  const log: string[] = [];
  const accounts = system.entities(
    "account",
    (id) => new Account(id, store, log),
    { idleMs: 30 },
  );
  const a1 = accounts.ref("a1");
  assertEquals(a1.path, "/user/account/a1");
  assertEquals(accounts.active, 0, "nothing active before the first message");
  a1.tell({ add: 5 });
  assertEquals(await a1.ask({ add: 2 }), 7);
  assertEquals(accounts.active, 1);
  await until(() => accounts.active === 0, "passivation");
  assertEquals(log, ["activate a1 total=0", "passivate a1"]);
  assertEquals(await a1.ask("get"), 7);
  assertEquals(log.at(-1), "activate a1 total=7");
  await system.shutdown();
});

Deno.test("messages sent while an entity passivates are not lost", async () => {
  const system = newSystem();
  const store: Store = new Map();
  const log: string[] = [];
  const release = gate();
  class SlowStop extends Account {
    override async postStop() {
      await release.promise;
      super.postStop();
    }
  }
  const accounts = system.entities(
    "slow",
    (id) => new SlowStop(id, store, log),
    { idleMs: 60_000 },
  );
  const r = accounts.ref("x");
  assertEquals(await r.ask({ add: 1 }), 1);
  const passivated = accounts.passivate("x");
  r.tell({ add: 10 });
  const answer = r.ask<number>({ add: 100 });
  release.open();
  await passivated;
  assertEquals(await answer, 111);
  assertEquals(log, [
    "activate x total=0",
    "passivate x",
    "activate x total=1",
  ]);
  assertEquals(system.deadLetters.count, 0);
  await system.shutdown();
});

Deno.test("entities are reachable by path (refFor, deliver) and activate there too", async () => {
  const system = newSystem();
  const store: Store = new Map();
  const accounts = system.entities("acc", (id) => new Account(id, store, []), {
    idleMs: 60_000,
  });
  assert(system.deliver("/user/acc/p", { add: 3 }));
  assertEquals(
    await system.refFor<Msg>({ node: "t", path: "/user/acc/p" }).ask("get"),
    3,
  );
  assertEquals(await system.deliverAsk("/user/acc/q", { add: 4 }), 4);
  assertEquals(accounts.active, 2);
  await system.shutdown();
  await assertRejects(accounts.ref("p").ask("get"), DeadLetterError);
});

Deno.test("named actors are found by path", async () => {
  const system = newSystem();
  class Named extends Actor<string> {
    receive(m: string) {
      return `${this.ctx.self.path}:${m}`;
    }
  }
  system.spawn(() => new Named(), { name: "keypair" });
  const ref = system.refFor<string>({ node: "t", path: "/user/keypair" });
  assertEquals(await ref.ask("hi"), "/user/keypair:hi");
  assert(system.registry.get("/user/keypair") !== undefined);
  await system.shutdown();
  assertEquals(system.registry.get("/user/keypair"), undefined);
});
