/**
 * The live daily cost limit of one keypair, held by its KeypairActor (the
 * actor that admits its sessions and hears every status change).
 *
 * Today's cost is computed from the store's running and paused phases of
 * the keypair's sessions (ended and running alike, so a running session
 * accrues as it runs) priced at their scaling group's table, for the cost
 * day in the keypair's time zone (midnight rolls it over; policies/cost/).
 * Nothing of it lives only in memory: a manager restart loses no cost.
 *
 * A periodic check (`cost.tick`, every 5 s from the sessions registry for
 * each keypair with live sessions) evaluates the limit:
 * - at the warning ratio (80 %), a `cost_warning` event on the event bus
 *   (`GET /events/session`) and the `X-BackendAI-Cost-Warning` header on
 *   the keypair's responses (routes/cost.ts);
 * - at 100 %, a `cost_limit` event; new sessions are refused with 412
 *   quota-exceeded naming `daily_cost_limit`, and every running session
 *   gets the action: `pause` (SUSPENDED, memory paid only) or `terminate`,
 *   with the reason as its status info; paused sessions do not resume
 *   until the day rolls over or the limit is raised;
 * - with "maintain", a new session is not refused but held in the pending
 *   queue (reason shown) while the day's projection (spent + burn rate ×
 *   hours left) with it would pass the limit, and let go when it fits.
 *
 * @module
 */

import type { ActorRef } from "../runtime/types.ts";
import {
  costToday,
  type CostVerdict,
  costVerdict,
  dayWindow,
  decideStartWithinBudget,
  DEFAULT_KEYPAIR_COST_SETTINGS,
  effectiveDailyLimit,
  formatCost,
  FREE_PRICES,
  hourlyCost,
  type KeypairCostSettings,
  limitStatusReason,
  type PriceTable,
  projectDayCost,
} from "../../policies/cost/mod.ts";
import type { PhasedSession, StoredPrices } from "./store/cost.ts";
import type { EventBus } from "./services.ts";
import type { SchedulerMsg } from "./scheduler.ts";
import type { CostTodayView } from "./port/mod.ts";

/** How long a computed standing answers `cost.check` before it is recomputed. */
const FRESH_MS = 2_000;

/** What the live limit reads from the store (actors/manager/cost_ports.ts). */
export interface KeypairCostStorePort {
  /** The keypair's own settings; null when it never set any. */
  costSettings(accessKey: string): Promise<KeypairCostSettings | null>;
  /** The keypair's sessions with phases overlapping `[from, to)`. */
  costPhases(accessKey: string, from: number, to: number): Promise<
    PhasedSession[]
  >;
  /** A group's prices: null when not priced, undefined when unknown. */
  groupPrices(group: string): Promise<StoredPrices | null | undefined>;
  /** PENDING sessions held by the cost budget when created, oldest first. */
  heldSessions(accessKey: string): Promise<HeldSession[]>;
}

/** A session waiting for the cost budget. */
export interface HeldSession {
  id: string;
  slots: Record<string, number>;
  scalingGroup: string;
}

/** The live limit's surroundings. */
export interface KeypairCostDeps {
  store: KeypairCostStorePort;
  events: EventBus;
  scheduler: ActorRef<SchedulerMsg>;
  /** A session's actor, told the limit's action. */
  session(id: string): ActorRef<
    { type: "cost.limit"; action: "pause" | "terminate"; reason: string }
  >;
}

/**
 * Where a keypair stands today: the port's `GET /x/cost/settings` `today`
 * (port/cost.ts), which the actor answers as it is. The enforced limit is
 * the smaller of the policy's and the keypair's own.
 */
export type CostStanding = CostTodayView;

/** Answer of `cost.check`: whether a session may start or resume. */
export type CostCheck =
  | { ok: true }
  | { ok: false; message: string; data: Record<string, unknown> };

/** One keypair's live limit. */
export class KeypairCost {
  settings: KeypairCostSettings = { ...DEFAULT_KEYPAIR_COST_SETTINGS };
  policyLimit: number | null = null;
  #level?: CostVerdict["level"];
  #last?: { at: number; standing: CostStanding };
  /** Held by "maintain", in creation order. */
  readonly #held = new Map<string, HeldSession>();
  /**
   * Let go by "maintain" but not running yet, with their hourly cost: not
   * in the phases' burn rate yet, so counted here (a burst of creates must
   * not each see the same headroom).
   */
  readonly #planned = new Map<string, number>();

  constructor(readonly accessKey: string, readonly deps: KeypairCostDeps) {}

  /** Reads the settings and the sessions held by the budget (activation, reload). */
  async load(policyLimit: number | null | undefined): Promise<void> {
    this.policyLimit = policyLimit ?? null;
    const store = this.deps.store;
    this.settings = await store.costSettings(this.accessKey) ??
      { ...DEFAULT_KEYPAIR_COST_SETTINGS };
    this.#held.clear();
    for (const h of await store.heldSessions(this.accessKey)) {
      this.#held.set(h.id, h);
    }
    this.#last = undefined;
  }

  /** The enforced limit. */
  get limit(): number | null {
    return effectiveDailyLimit(this.policyLimit, this.settings.dailyCostLimit);
  }

  /** Today's standing, from the store's phases (one query). */
  async standing(now = Date.now()): Promise<CostStanding> {
    const zone = this.settings.timeZone;
    const day = dayWindow(now, zone);
    const sessions = await this.deps.store.costPhases(
      this.accessKey,
      day.start,
      now + 1,
    );
    const priced = sessions.map((s) => ({
      slots: s.slots,
      phases: s.phases,
      prices: (s.prices ?? FREE_PRICES) as PriceTable,
    }));
    const today = costToday({ now, timeZone: zone, sessions: priced });
    let burn = 0;
    for (const s of priced) {
      const open = s.phases.find((p) => p.to === undefined);
      if (open) burn += hourlyCost(s.slots, s.prices, open.state).total;
    }
    const v = costVerdict(today.total, this.limit, this.settings);
    const p = projectDayCost({
      spent: today.total,
      runningPerHour: burn,
      now,
      timeZone: zone,
    });
    const standing: CostStanding = {
      date: day.date,
      timeZone: zone,
      resetsAt: new Date(day.end).toISOString(),
      spent: today.total,
      limit: v.limit,
      ratio: v.ratio,
      level: v.level,
      burnPerHour: burn,
      projected: p.projected,
    };
    this.#last = { at: now, standing };
    return standing;
  }

  async #fresh(now: number): Promise<CostStanding> {
    const last = this.#last;
    return last && now - last.at < FRESH_MS
      ? last.standing
      : await this.standing(now);
  }

  /** May a session start or resume now? Not at the limit. */
  async check(now = Date.now()): Promise<CostCheck> {
    const st = await this.#fresh(now);
    if (st.level !== "limit") return { ok: true };
    return {
      ok: false,
      message: `Today's cost ${formatCost(st.spent)} reached the daily cost ` +
        `limit ${formatCost(st.limit ?? 0)}; it resets at ${st.resetsAt}.`,
      data: { exceeded: [limitData(st)] },
    };
  }

  /**
   * The cost part of admitting a new session: `daily_cost_limit` figures
   * for the policy check, or, under "maintain", a hold reason when the
   * day's projection with the session would pass the limit.
   */
  async admit(
    id: string,
    slots: Record<string, number>,
    group: string,
    now = Date.now(),
  ): Promise<
    { costToday: number; resetsAt: number; limit: number | null } | {
      hold: string;
    }
  > {
    const st = await this.standing(now);
    if (this.settings.maintain && st.limit !== null) {
      const prices = await this.deps.store.groupPrices(group) ?? FREE_PRICES;
      const d = decideStartWithinBudget({
        spent: st.spent,
        runningPerHour: st.burnPerHour + this.#plannedBurn(),
        newPerHour: hourlyCost(slots, prices).total,
        limit: st.limit,
        now,
        timeZone: st.timeZone,
      });
      if (!d.start) {
        this.#held.set(id, { id, slots, scalingGroup: group });
        return { hold: d.reason };
      }
      // It fits: the limit does not refuse it either (its start is planned).
      this.#planned.set(id, hourlyCost(slots, prices).total);
      return { costToday: 0, resetsAt: Date.parse(st.resetsAt), limit: null };
    }
    return {
      costToday: st.spent,
      resetsAt: Date.parse(st.resetsAt),
      limit: st.limit,
    };
  }

  #plannedBurn(): number {
    let sum = 0;
    for (const v of this.#planned.values()) sum += v;
    return sum;
  }

  /** A session changed status: one leaving PENDING is no longer held, a running one no longer planned. */
  sessionStatus(id: string, status: string, ended: boolean): void {
    if (status !== "PENDING") this.#held.delete(id);
    if (status === "RUNNING" || ended) this.#planned.delete(id);
  }

  /** The periodic check: events, the limit's action, the budget's holds. */
  async tick(live: Iterable<string>, now = Date.now()): Promise<CostStanding> {
    const st = await this.standing(now);
    if (st.level !== this.#level) {
      if (this.#level !== undefined || st.level !== "ok") this.#publish(st);
      this.#level = st.level;
    }
    if (st.level === "limit" && st.limit !== null) {
      const action = this.settings.action;
      const reason = limitStatusReason({
        action,
        limit: st.limit,
        spent: st.spent,
      });
      for (const id of live) {
        if (!this.#held.has(id)) {
          this.deps.session(id).tell({ type: "cost.limit", action, reason });
        }
      }
    }
    await this.#release(st, now);
    return st;
  }

  /** Lets held sessions go once they fit (all of them without "maintain"). */
  async #release(st: CostStanding, now: number): Promise<void> {
    if (this.#held.size === 0) return;
    const scheduler = this.deps.scheduler;
    let burn = st.burnPerHour + this.#plannedBurn();
    for (const h of [...this.#held.values()]) {
      if (!this.settings.maintain || st.limit === null) {
        this.#held.delete(h.id);
        scheduler.tell({ type: "unhold", sessionId: h.id });
        continue;
      }
      const prices = await this.deps.store.groupPrices(h.scalingGroup) ??
        FREE_PRICES;
      const add = hourlyCost(h.slots, prices).total;
      const d = decideStartWithinBudget({
        spent: st.spent,
        runningPerHour: burn,
        newPerHour: add,
        limit: st.limit,
        now,
        timeZone: st.timeZone,
      });
      if (d.start) {
        this.#held.delete(h.id);
        this.#planned.set(h.id, add);
        burn += add;
        scheduler.tell({ type: "unhold", sessionId: h.id });
      } else {
        scheduler.tell({ type: "hold", sessionId: h.id, reason: d.reason });
      }
    }
  }

  #publish(st: CostStanding): void {
    const event = st.level === "limit"
      ? "cost_limit"
      : st.level === "warn"
      ? "cost_warning"
      : "cost_ok";
    this.deps.events.publish({
      event,
      data: {
        accessKey: this.accessKey,
        level: st.level,
        spent: st.spent,
        limit: st.limit,
        ratio: st.ratio,
        resetsAt: st.resetsAt,
        action: this.settings.action,
        message: standingText(st),
      },
    });
  }
}

/** The standing in words (events, the response header). */
export function standingText(st: CostStanding): string {
  const of = st.limit === null ? "" : ` of the ${formatCost(st.limit)} limit`;
  const pct = st.limit === null ? "" : ` (${Math.round(st.ratio * 100)} %)`;
  return `today's cost ${
    formatCost(st.spent)
  }${of}${pct}; resets at ${st.resetsAt}`;
}

/** The 412 `data.exceeded` entry of the daily limit. */
export function limitData(st: CostStanding): Record<string, unknown> {
  return {
    limit: "daily_cost_limit",
    requested: 0,
    used: st.spent,
    max: st.limit,
    resetsAt: st.resetsAt,
  };
}
