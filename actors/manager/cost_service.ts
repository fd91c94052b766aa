/**
 * The manager's side of the cost port (port/cost.ts): estimates over the
 * stored price tables and the scheduler's view of free room, usage reports
 * from the store's session phases, a keypair's settings (stored, then its
 * actor reloads them) and its standing (asked of its actor), and the
 * warning header's values, kept from the keypairs' cost events on the bus.
 *
 * @module
 */

import type { ActorRef } from "../runtime/types.ts";
import {
  addFigures,
  cheapestGroup,
  type CostBreakdown,
  dayWindow,
  DEFAULT_KEYPAIR_COST_SETTINGS,
  effectiveDailyLimit,
  emptyFigures,
  estimate,
  FREE_PRICES,
  KeypairCostSettingsSchema,
  limitAbovePolicy,
  sessionFigures,
  usageByDay,
  type UsageFigures,
} from "../../policies/cost/mod.ts";
import type {
  CostDeps,
  CostSettingsView,
  GroupEstimate,
  MeterCost,
  UsageQuery,
  UsageReport,
} from "./port/mod.ts";
import { DomainError } from "./errors.ts";
import type { Store } from "./store/mod.ts";
import type { CostStatus, KeypairMsg } from "./keypair.ts";
import type { GroupRoom, SchedulerMsg } from "./scheduler.ts";
import type { EventBus } from "./services.ts";
import { groupOffers, type IdlePauseCache } from "./cost_ports.ts";

export interface CostWiring {
  store: Store;
  keypair(accessKey: string): ActorRef<KeypairMsg>;
  scheduler: ActorRef<SchedulerMsg>;
  events: EventBus;
  idle: IdlePauseCache;
  /** @default {Date.now} */
  now?: () => number;
}

const ASK = { timeoutMs: 15_000 };
const DAY = 86_400_000;

export function createCostDeps(w: CostWiring): CostDeps {
  const now = w.now ?? Date.now;
  const warnings = new Map<string, { value: string; until: number }>();
  w.events.subscribe((e) => {
    if (!e.event.startsWith("cost_")) return;
    const d = e.data as {
      accessKey?: string;
      level?: string;
      spent?: number;
      limit?: number | null;
      ratio?: number;
      resetsAt?: string;
    };
    if (!d.accessKey) return;
    if (d.level !== "warn" && d.level !== "limit") {
      warnings.delete(d.accessKey);
      return;
    }
    warnings.set(d.accessKey, {
      value: `${d.level}; spent=${round(d.spent)}; limit=${round(d.limit)}; ` +
        `ratio=${(d.ratio ?? 0).toFixed(2)}; resetsAt=${d.resetsAt}`,
      until: Date.parse(d.resetsAt ?? "") || 0,
    });
  });

  const status = async (accessKey: string): Promise<CostStatus> => {
    const s = await w.keypair(accessKey).ask<CostStatus | undefined>(
      { type: "cost.status" },
      ASK,
    );
    if (!s) throw new DomainError("object-not-found", "No such keypair.");
    return s;
  };

  const view = (s: CostStatus): CostSettingsView => ({
    ...s.settings,
    policyDailyCostLimit: s.policyLimit,
    effectiveDailyCostLimit: effectiveDailyLimit(
      s.policyLimit,
      s.settings.dailyCostLimit,
    ),
    today: s.today,
  });

  const report = async (
    q: UsageQuery,
    timeZone: string,
    accessKey: string | undefined,
  ): Promise<UsageReport> => {
    const t = now();
    const from = q.from === undefined
      ? dayWindow(t - 6 * DAY, timeZone).start
      : instant(q.from, timeZone, "start");
    const to = Math.min(
      t,
      q.to === undefined ? t : instant(q.to, timeZone, "end"),
    );
    if (!(to >= from)) {
      throw new DomainError("invalid-api-params", "`to` is before `from`.");
    }
    const rows = await w.store.cost.phases({ accessKey, from, to });
    const priced = rows.map((r) => ({
      slots: r.slots,
      phases: r.phases,
      prices: r.prices ?? FREE_PRICES,
    }));
    let days;
    try {
      days = usageByDay(priced, from, to, timeZone);
    } catch (e) {
      throw new DomainError("invalid-api-params", (e as Error).message);
    }
    const totals = emptyFigures();
    for (const d of days) addFigures(totals, d);
    const perKeypair = new Map<string, UsageFigures>();
    const sessions = rows.map((r, i) => {
      const f = sessionFigures(priced[i], from, to);
      const acc = perKeypair.get(r.accessKey) ?? emptyFigures();
      perKeypair.set(r.accessKey, addFigures(acc, f));
      return {
        sessionId: r.sessionId,
        sessionName: r.name,
        accessKey: r.accessKey,
        scalingGroup: r.scalingGroup,
        status: r.status,
        createdAt: new Date(r.createdAt).toISOString(),
        terminatedAt: r.terminatedAt === null
          ? null
          : new Date(r.terminatedAt).toISOString(),
        ...f,
      };
    });
    const out: UsageReport = {
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      timeZone,
      totals,
      days: days.map(({ start: _s, end: _e, ...d }) => d),
      sessions: sessions.slice(q.offset, q.offset + q.limit),
      total: sessions.length,
    };
    if (accessKey === undefined) {
      out.keypairs = [...perKeypair].map(([ak, f]) => ({ accessKey: ak, ...f }))
        .sort((a, b) => b.cost - a.cost);
    }
    return out;
  };

  return {
    async estimate(_caller, req) {
      const hours = req.hours ?? 24;
      const [prices, room] = await Promise.all([
        w.store.cost.allPrices(),
        w.scheduler.ask<GroupRoom[]>({ type: "room" }, ASK),
      ]);
      if (
        req.scalingGroup !== undefined &&
        !Object.hasOwn(prices, req.scalingGroup)
      ) {
        throw new DomainError(
          "object-not-found",
          `No such scaling group: ${req.scalingGroup}`,
        );
      }
      const offers = groupOffers(prices, room);
      const choice = cheapestGroup(req.resources, offers);
      const priceOf = (group: string): GroupEstimate => {
        const e = estimate(req.resources, prices[group] ?? FREE_PRICES, hours);
        return {
          scalingGroup: group,
          fits: choice.quotes.find((q) => q.group === group)?.fits ?? false,
          priced: prices[group] !== null,
          perHour: meters(e.perHour),
          perDay: meters(e.perDay),
          paused: {
            perHour: meters(e.paused.perHour),
            perDay: meters(e.paused.perDay),
          },
          hours,
          total: meters(e.total),
        };
      };
      return {
        resources: req.resources,
        hours,
        cheapest: choice.chosen ? priceOf(choice.chosen.group) : null,
        ...(req.scalingGroup === undefined
          ? {}
          : { named: priceOf(req.scalingGroup) }),
        groups: choice.quotes.map((q) => ({
          scalingGroup: q.group,
          perHour: q.perHour,
          fits: q.fits,
        })),
      };
    },
    async prices() {
      return await w.store.cost.allPrices();
    },
    async usage(caller, q) {
      const s = await w.store.cost.settings(caller.accessKey);
      return await report(q, s?.timeZone ?? "UTC", caller.accessKey);
    },
    async settings(caller) {
      return view(await status(caller.accessKey));
    },
    async putSettings(caller, patch) {
      const ak = caller.accessKey;
      const kp = await w.store.keypairs.get(ak);
      if (!kp) throw new DomainError("object-not-found", "No such keypair.");
      const current = await w.store.cost.settings(ak) ??
        DEFAULT_KEYPAIR_COST_SETTINGS;
      const merged = KeypairCostSettingsSchema.parse({ ...current, ...patch });
      const policy = await w.store.policies.get(kp.resourcePolicy);
      const above = limitAbovePolicy(
        merged.dailyCostLimit,
        policy?.dailyCostLimit,
      );
      if (above) {
        throw new DomainError("invalid-api-params", above, {
          field: "dailyCostLimit",
          policyDailyCostLimit: policy?.dailyCostLimit ?? null,
        });
      }
      await w.store.cost.putSettings(ak, merged);
      w.idle.forget(ak);
      await w.keypair(ak).ask({ type: "reload" }, ASK);
      return view(await status(ak));
    },
    warning(accessKey) {
      const wn = warnings.get(accessKey);
      if (!wn) return undefined;
      if (wn.until && now() >= wn.until) {
        warnings.delete(accessKey); // the day rolled over
        return undefined;
      }
      return wn.value;
    },
    async getPrices(group) {
      const prices = await w.store.cost.prices(group);
      if (prices === undefined) {
        throw new DomainError("object-not-found", "No such scaling group.");
      }
      return { scalingGroup: group, prices };
    },
    async putPrices(group, prices) {
      if (!(await w.store.cost.setPrices(group, prices))) {
        throw new DomainError("object-not-found", "No such scaling group.");
      }
      return { scalingGroup: group, prices };
    },
    async adminUsage(q) {
      return await report(q, q.timeZone ?? "UTC", q.accessKey);
    },
  };
}

function meters(c: CostBreakdown): MeterCost {
  return { cpu: c.cpu, mem: c.mem, devices: c.devices, total: c.total };
}

function round(x: number | null | undefined): string {
  return x === null || x === undefined ? "none" : String(+x.toFixed(6));
}

/**
 * `YYYY-MM-DD` as the start (or end) of that local day in `timeZone`, or
 * an ISO 8601 time as it is.
 */
function instant(s: string, timeZone: string, edge: "start" | "end"): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) {
    const t = Date.parse(s);
    if (!Number.isFinite(t)) {
      throw new DomainError("invalid-api-params", `Not a date or time: ${s}`);
    }
    return t;
  }
  // Noon UTC of that date is on it or a neighbour day in every zone.
  let t = Date.UTC(+m[1], +m[2] - 1, +m[3], 12);
  for (let i = 0; i < 3; i++) {
    const w = dayWindow(t, timeZone);
    if (w.date === s) return edge === "start" ? w.start : w.end;
    t += w.date < s ? 12 * 3_600_000 : -12 * 3_600_000;
  }
  throw new DomainError("invalid-api-params", `Not a date: ${s}`);
}
