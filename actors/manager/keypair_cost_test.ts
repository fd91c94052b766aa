/**
 * The live daily limit of a keypair (keypair_cost.ts) over a memory store:
 * today's cost from running phases, the warning and limit events, the
 * limit's action told to running sessions, the check a resume asks, and
 * "maintain" holding a session until the day rolls over.
 */
import { assert, assertEquals } from "../runtime/_test_util.ts";
import { Actor, type ActorRef, ActorSystem } from "../runtime/mod.ts";
import { DEFAULT_KEYPAIR_COST_SETTINGS } from "../../policies/cost/mod.ts";
import {
  KeypairCost,
  type KeypairCostDeps,
  type KeypairCostStorePort,
} from "./keypair_cost.ts";
import type { PhasedSession } from "./store/cost.ts";
import { createEventBus } from "./services.ts";
import type { SessionEvent } from "./port/mod.ts";
import type { SchedulerMsg } from "./scheduler.ts";

class Recorder<M> extends Actor<M> {
  constructor(readonly seen: M[]) {
    super();
  }
  receive(msg: M): void {
    this.seen.push(msg);
  }
}

const PRICES = { cpuCoreHour: 3600, memGiBHour: 0, deviceHour: {} }; // 1 per core-second
const NOON = Date.UTC(2024, 4, 1, 12);

function fixture(settings = {}) {
  const system = new ActorSystem({ nodeId: "manager" });
  const scheduled: SchedulerMsg[] = [];
  const told: { id: string; msg: unknown }[] = [];
  const scheduler = system.spawn(() => new Recorder(scheduled), {
    name: "scheduler",
  }) as ActorRef<SchedulerMsg>;
  const sessions: PhasedSession[] = [];
  const store: KeypairCostStorePort = {
    costSettings: () =>
      Promise.resolve({ ...DEFAULT_KEYPAIR_COST_SETTINGS, ...settings }),
    costPhases: (_ak, from, to) =>
      Promise.resolve(
        sessions.filter((s) =>
          s.phases.some((p) => (p.to ?? Infinity) > from && p.from < to)
        ),
      ),
    groupPrices: () => Promise.resolve(PRICES),
    heldSessions: () => Promise.resolve([]),
  };
  const events: SessionEvent[] = [];
  const bus = createEventBus();
  bus.subscribe((e) => events.push(e));
  const cost = new KeypairCost("AK", {
    store,
    events: bus,
    scheduler,
    session: (id) =>
      ({
        tell: (msg: unknown) => told.push({ id, msg }),
      }) as unknown as ReturnType<KeypairCostDeps["session"]>,
  });
  const running = (id: string, since: number) =>
    sessions.push({
      sessionId: id,
      accessKey: "AK",
      name: id,
      status: "RUNNING",
      scalingGroup: "default",
      slots: { cpu: 1 },
      prices: PRICES,
      createdAt: since,
      terminatedAt: null,
      pausedMs: 0,
      phases: [{ state: "running", from: since }],
    });
  return {
    cost,
    events,
    told,
    scheduled,
    running,
    close: () => system.shutdown({ deadlineMs: 1000 }),
  };
}

Deno.test("keypair cost: a running session accrues; 80 % warns, 100 % acts on running sessions", async () => {
  const f = fixture({ dailyCostLimit: 10 });
  try {
    await f.cost.load(null);
    f.running("s1", NOON - 5_000);
    let st = await f.cost.tick(["s1"], NOON);
    assertEquals(st.spent, 5);
    assertEquals(st.level, "ok");
    assertEquals(st.burnPerHour, 3600);
    assertEquals(f.events.length, 0, "ok at activation: nothing to say");
    st = await f.cost.tick(["s1"], NOON + 3_000);
    assertEquals(st.level, "warn");
    assertEquals(f.events.map((e) => e.event), ["cost_warning"]);
    assertEquals(f.events[0].data.accessKey, "AK");
    assertEquals(f.told.length, 0);
    assert((await f.cost.check(NOON + 3_000)).ok);

    st = await f.cost.tick(["s1"], NOON + 5_000);
    assertEquals(st.level, "limit");
    assertEquals(f.events.map((e) => e.event), ["cost_warning", "cost_limit"]);
    assertEquals(f.told, [{
      id: "s1",
      msg: {
        type: "cost.limit",
        action: "pause",
        reason: "paused: today's cost 10.00 reached the daily cost limit 10.00",
      },
    }]);
    const check = await f.cost.check(NOON + 5_500);
    assert(!check.ok);
    const exceeded = (check as { data: Record<string, unknown> }).data
      .exceeded as { limit: string }[];
    assertEquals(exceeded[0].limit, "daily_cost_limit");
    // Admission gets the figures the policy check refuses with (412).
    const a = await f.cost.admit("s2", { cpu: 1 }, "default", NOON + 6_000);
    assert("costToday" in a && a.costToday >= 10 && a.limit === 10);
    // The policy's limit is lower than the keypair's: the smaller wins.
    await f.cost.load(4);
    assertEquals(f.cost.limit, 4);
  } finally {
    await f.close();
  }
});

Deno.test("keypair cost: midnight rolls today's cost over", async () => {
  const f = fixture({ dailyCostLimit: 10, timeZone: "Asia/Seoul" });
  try {
    await f.cost.load(null);
    // 14:59:50 UTC = 23:59:50 KST; the session ran 20 s until then.
    const midnight = Date.UTC(2024, 4, 1, 15);
    f.running("s1", midnight - 20_000);
    const before = await f.cost.tick(["s1"], midnight - 1);
    assertEquals(before.level, "limit");
    const after = await f.cost.tick(["s1"], midnight + 2_000);
    assertEquals(after.spent, 2);
    assertEquals(after.level, "ok");
    assertEquals(after.date, "2024-05-02");
    assertEquals(f.events.at(-1)?.event, "cost_ok");
  } finally {
    await f.close();
  }
});

Deno.test("keypair cost: maintain holds a session whose projection passes the limit, lets it go when it fits", async () => {
  const f = fixture({ dailyCostLimit: 90_000, maintain: true });
  try {
    await f.cost.load(null);
    // 12 h left, 1 per core-second: a 1-core session projects 43,200.
    f.running("s1", NOON);
    const first = await f.cost.admit("s2", { cpu: 1 }, "default", NOON);
    assert("costToday" in first, "s1 + s2 fit: 86,400 ≤ 90,000");
    const held = await f.cost.admit("s3", { cpu: 1 }, "default", NOON);
    assert("hold" in held, "s3 would pass it");
    assert(/waiting for the daily cost budget/.test(held.hold));
    await f.cost.tick(["s1", "s2", "s3"], NOON + 1000);
    const hold = f.scheduled.find((m) => m.type === "hold");
    assertEquals(hold?.type === "hold" && hold.sessionId, "s3");
    assert(!f.scheduled.some((m) => m.type === "unhold"), "s2 still planned");
    // s2 goes away: at 13:00, 3,600 spent + (s1 + s3) × 11 h = 82,800 fits.
    f.cost.sessionStatus("s2", "CANCELLED", true);
    await f.cost.tick(["s1", "s3"], Date.UTC(2024, 4, 1, 13));
    assertEquals(
      f.scheduled.filter((m) => m.type === "unhold").map((m) =>
        m.type === "unhold" && m.sessionId
      ),
      ["s3"],
    );
  } finally {
    await f.close();
  }
});
