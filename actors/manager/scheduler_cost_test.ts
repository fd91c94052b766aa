/**
 * The scheduler's part in cost (scheduler.ts): sessions the cost budget
 * holds stay queued with their reason and are placed once let go; a
 * suspended session's room goes to others and comes back only when it
 * fits (`reclaim`); `room` tells the cheapest-group choice what is free.
 */
import { assert, assertEquals } from "../runtime/_test_util.ts";
import { Actor, type ActorRef, ActorSystem } from "../runtime/mod.ts";
import {
  type GroupRoom,
  type PendingView,
  SchedulerActor,
  type SchedulerMsg,
} from "./scheduler.ts";

class Recorder extends Actor<unknown> {
  constructor(readonly id: string, readonly seen: string[]) {
    super();
  }
  receive(msg: { type: string }): void {
    this.seen.push(`${this.id}:${msg.type}`);
  }
}

const ASK = { timeoutMs: 2_000 };
const until = async (check: () => boolean, what: string) => {
  for (let i = 0; i < 200 && !check(); i++) {
    await new Promise((r) => setTimeout(r, 5));
  }
  assert(check(), what);
};

function setup() {
  const system = new ActorSystem({ nodeId: "manager" });
  const seen: string[] = [];
  const sessions = new Map<string, ActorRef>();
  const scheduler = system.spawn(
    () =>
      new SchedulerActor({
        intervalMs: 60_000,
        sessionRef: (id) => {
          let ref = sessions.get(id);
          if (!ref) {
            ref = system.spawn(() => new Recorder(id, seen));
            sessions.set(id, ref);
          }
          return ref as ActorRef<never>;
        },
      }),
    { name: "scheduler" },
  ) as ActorRef<SchedulerMsg>;
  scheduler.tell({
    type: "agents",
    agents: [{
      id: "a1",
      scalingGroup: "default",
      total: { cpu: 2, mem: 8 },
      schedulable: true,
    }],
  });
  const enqueue = (id: string, hold?: string) =>
    scheduler.tell({
      type: "enqueue",
      sessionId: id,
      accessKey: "AK",
      slots: { cpu: 2, mem: 2 },
      scalingGroup: "default",
      createdAt: Date.now(),
      hold,
    });
  return {
    scheduler,
    seen,
    enqueue,
    close: () => system.shutdown({ deadlineMs: 1000 }),
  };
}

Deno.test("scheduler: a session held by the cost budget waits with its reason until let go", async () => {
  const s = setup();
  try {
    s.scheduler.tell({ type: "hold", sessionId: "s1", reason: "budget" }); // before its enqueue
    s.enqueue("s1");
    await new Promise((r) => setTimeout(r, 30));
    assertEquals(s.seen, []);
    const pending = await s.scheduler.ask<PendingView[]>(
      { type: "pending" },
      ASK,
    );
    assertEquals(
      pending.map((p) => [p.sessionId, p.code, p.reason]),
      [["s1", "cost-budget", "budget"]],
    );
    s.scheduler.tell({ type: "unhold", sessionId: "s1" });
    await until(() => s.seen.includes("s1:scheduled"), "placed once let go");
  } finally {
    await s.close();
  }
});

Deno.test("scheduler: a suspended session's cpu goes to others; reclaim answers whether it fits again", async () => {
  const s = setup();
  try {
    s.enqueue("s1");
    await until(() => s.seen.includes("s1:scheduled"), "s1 placed");
    let room = await s.scheduler.ask<GroupRoom[]>({ type: "room" }, ASK);
    assertEquals(room[0].agents[0].free, { cpu: 0, mem: 6 });
    // Suspended: memory only.
    s.scheduler.tell({ type: "resize", sessionId: "s1", slots: { mem: 2 } });
    room = await s.scheduler.ask<GroupRoom[]>({ type: "room" }, ASK);
    assertEquals(room[0].agents[0].free, { cpu: 2, mem: 6 });
    assertEquals(
      await s.scheduler.ask({
        type: "reclaim",
        sessionId: "s1",
        slots: { cpu: 2, mem: 2 },
      }, ASK),
      { ok: true },
    );
    s.scheduler.tell({ type: "resize", sessionId: "s1", slots: { mem: 2 } });
    s.enqueue("s2"); // takes the cpu meanwhile
    await until(() => s.seen.includes("s2:scheduled"), "s2 placed");
    const refused = await s.scheduler.ask<{ ok: boolean; reason: string }>({
      type: "reclaim",
      sessionId: "s1",
      slots: { cpu: 2, mem: 2 },
    }, ASK);
    assertEquals(refused.ok, false);
    assert(/no room on agent a1: cpu needs 2, 0 free/.test(refused.reason));
  } finally {
    await s.close();
  }
});
