/**
 * Automatic cost optimisation: a session that names no scaling group goes
 * to the cheapest group that can host it now. Each group is quoted at its
 * own prices; a group fits when one of its schedulable agents has the
 * free room for the whole request. Equal prices go to the existing
 * placement preference (a `tieBreak`, else the order the groups came in).
 *
 * @module
 */

import { fits, type ResourceSlots } from "../slots.ts";
import { hourlyCost } from "./estimate.ts";
import type { PriceTable } from "./prices.ts";

/** A scaling group as a candidate. */
export interface GroupOffer {
  /** Scaling group name. */
  group: string;
  /** Its price table. */
  prices: PriceTable;
  /** Free room of each of its schedulable agents now. */
  agents: readonly ResourceSlots[];
}

/** A group's price for the request. */
export interface GroupQuote {
  group: string;
  /** Running cost of the request per hour there. */
  perHour: number;
  /** Whether one of its agents has room for it now. */
  fits: boolean;
}

/** Options of {@link cheapestGroup}. */
export interface CheapestOptions {
  /**
   * Order among groups of equal price: negative when `a` is preferred.
   * @default {the order of `offers`}
   */
  tieBreak?: (a: string, b: string) => number;
}

/** Output of {@link cheapestGroup}. */
export interface CheapestGroup {
  /** The cheapest group that fits; undefined when none does. */
  chosen?: GroupQuote;
  /** Every group: those that fit first, each part cheapest first. */
  quotes: GroupQuote[];
}

/** Prices closer than this (relative) are equal: float sums differ in the last bits. */
const SAME_PRICE = 1e-9;

/**
 * Chooses the cheapest group that can host `request` now.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cheapestGroup } from "./cheapest.ts";
 * const r = cheapestGroup({ cpu: 2 }, [
 *   { group: "hot", prices: { cpuCoreHour: 0.1, memGiBHour: 0 }, agents: [{ cpu: 4 }] },
 *   { group: "spot", prices: { cpuCoreHour: 0.02, memGiBHour: 0 }, agents: [{ cpu: 1 }] },
 *   { group: "cold", prices: { cpuCoreHour: 0.05, memGiBHour: 0 }, agents: [{ cpu: 8 }] },
 * ]);
 * assert.equal(r.chosen?.group, "cold"); // spot is cheaper but has no room
 * assert.deepEqual(r.quotes.map((q) => q.group), ["cold", "hot", "spot"]);
 * ```
 */
export function cheapestGroup(
  request: ResourceSlots,
  offers: readonly GroupOffer[],
  options: CheapestOptions = {},
): CheapestGroup {
  const tie = options.tieBreak;
  const quotes = offers.map((o, i) => ({
    i,
    q: {
      group: o.group,
      perHour: hourlyCost(request, o.prices).total,
      fits: o.agents.some((free) => fits(request, free)),
    },
  }));
  quotes.sort((x, y) => {
    if (x.q.fits !== y.q.fits) return x.q.fits ? -1 : 1;
    const a = x.q.perHour, b = y.q.perHour;
    if (Math.abs(a - b) > SAME_PRICE * Math.max(Math.abs(a), Math.abs(b))) {
      return a - b;
    }
    return (tie ? tie(x.q.group, y.q.group) : 0) || x.i - y.i;
  });
  const sorted = quotes.map((x) => x.q);
  return { chosen: sorted[0]?.fits ? sorted[0] : undefined, quotes: sorted };
}
