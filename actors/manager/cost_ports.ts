/**
 * The store and scheduler behind cost, in the shapes the actors use: the
 * keypair actor's live-limit port ({@link KeypairCostStorePort}), the
 * session actors' idle-pause time (a small cache, read on every tick) and
 * the cheapest scaling group for a session that names none.
 *
 * @module
 */

import type { ActorRef } from "../runtime/types.ts";
import {
  cheapestGroup,
  DEFAULT_KEYPAIR_COST_SETTINGS,
  FREE_PRICES,
  type GroupOffer,
} from "../../policies/cost/mod.ts";
import type { Store } from "./store/mod.ts";
import type { KeypairCostStorePort } from "./keypair_cost.ts";
import type { GroupRoom, SchedulerMsg } from "./scheduler.ts";

/** How long a keypair's idle-pause time is cached (a PUT forgets it at once). */
const IDLE_CACHE_MS = 10_000;

/** The keypair actor's live-limit port over the store. */
export function keypairCostStore(store: Store): KeypairCostStorePort {
  return {
    async costSettings(accessKey) {
      const s = await store.cost.settings(accessKey);
      return s && { ...DEFAULT_KEYPAIR_COST_SETTINGS, ...s };
    },
    costPhases: (accessKey, from, to) =>
      store.cost.phases({ accessKey, from, to }),
    groupPrices: (group) => store.cost.prices(group),
    async heldSessions(accessKey) {
      const live = await store.sessions.listLive({ accessKey });
      return live
        .filter((s) =>
          s.status === "PENDING" &&
          Boolean((s.config as { costHold?: unknown }).costHold)
        )
        .map((s) => ({
          id: s.id,
          slots: s.requestedSlots,
          scalingGroup: s.scalingGroup,
        }));
    },
  };
}

/** The idle-pause time of keypairs, cached; refreshed in the background. */
export class IdlePauseCache {
  readonly #cache = new Map<string, { at: number; seconds: number }>();
  readonly #loading = new Set<string>();

  constructor(readonly store: Store, readonly now: () => number = Date.now) {}

  /** Seconds, or undefined until first loaded (the next tick decides). */
  get(accessKey: string): number | undefined {
    const c = this.#cache.get(accessKey);
    if (!c || this.now() - c.at > IDLE_CACHE_MS) this.#refresh(accessKey);
    return c?.seconds;
  }

  /** Forgets a keypair's value (its settings just changed). */
  forget(accessKey: string): void {
    this.#cache.delete(accessKey);
  }

  #refresh(accessKey: string): void {
    if (this.#loading.has(accessKey)) return;
    this.#loading.add(accessKey);
    store(this.store, accessKey).then(
      (seconds) => this.#cache.set(accessKey, { at: this.now(), seconds }),
      () => undefined, // the store is away: try on the next tick
    ).finally(() => this.#loading.delete(accessKey));
  }
}

async function store(s: Store, accessKey: string): Promise<number> {
  return (await s.cost.settings(accessKey))?.idlePauseSeconds ?? 0;
}

/**
 * The scaling group a session that names none goes to: the cheapest with
 * an agent that has room for `slots` now; equal prices keep the order
 * "default" first, then by name (today's choice when nothing is priced).
 * Undefined when no group has room now (it waits in "default").
 */
export async function cheapestGroupFor(
  store: Store,
  scheduler: ActorRef<SchedulerMsg>,
  slots: Record<string, number>,
): Promise<string | undefined> {
  const [prices, room] = await Promise.all([
    store.cost.allPrices(),
    scheduler.ask<GroupRoom[]>({ type: "room" }, { timeoutMs: 5_000 }),
  ]);
  const offers = groupOffers(prices, room);
  return cheapestGroup(slots, offers).chosen?.group;
}

/** Every group as an offer, "default" first, with its agents' free room. */
export function groupOffers(
  prices: Record<string, GroupOffer["prices"] | null>,
  room: GroupRoom[],
): GroupOffer[] {
  const names = Object.keys(prices).sort((a, b) =>
    a === "default" ? -1 : b === "default" ? 1 : a < b ? -1 : a > b ? 1 : 0
  );
  return names.map((group) => ({
    group,
    prices: prices[group] ?? FREE_PRICES,
    agents:
      room.find((r) => r.scalingGroup === group)?.agents.map((a) => a.free) ??
        [],
  }));
}
