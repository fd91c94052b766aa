/**
 * DRF (Dominant Resource Fairness, Ghodsi et al. 2011): one queue per
 * keypair, oldest first inside it; the keypair with the lowest dominant
 * share goes next. Shares count what each keypair already occupies and are
 * recomputed after every placement, so one pass fills the group
 * progressively as in the paper.
 *
 * @module
 */

import type { ResourceSlots } from "../slots.ts";
import { Heap } from "./_heap.ts";
import {
  type Arbiter,
  type ArbiterContext,
  defineSchedulingPolicy,
  type QueueView,
  type SchedulingPolicy,
} from "./policy.ts";

/**
 * The dominant share of a keypair: the largest fraction of the cluster's
 * total capacity it occupies in any one slot. Slots the cluster lacks are
 * ignored.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dominantShare } from "./drf.ts";
 * // 3 of 9 CPUs and 1 of 18 GB: cpu dominates with 1/3.
 * assert.ok(dominantShare({ cpu: 3, mem: 1 }, { cpu: 9, mem: 18 }) === 1 / 3);
 * ```
 */
export function dominantShare(
  occupied: ResourceSlots,
  clusterTotal: ResourceSlots,
): number {
  let share = 0;
  for (const k in occupied) {
    const t = clusterTotal[k];
    if (t > 0) share = Math.max(share, occupied[k] / t);
  }
  return share;
}

/** A queue with its keypair's standing during one pass. */
interface Entry<Q> {
  q: Q;
  occupied: ResourceSlots;
  share: number;
}

function drfArbiter<Q extends QueueView>(ctx: ArbiterContext): Arbiter<Q> {
  const entries = new Map<Q, Entry<Q>>();
  const entryOf = (q: Q): Entry<Q> => {
    let e = entries.get(q);
    if (!e) {
      const occupied = { ...ctx.occupiedByKeypair[q.key] };
      e = { q, occupied, share: dominantShare(occupied, ctx.clusterTotal) };
      entries.set(q, e);
    }
    return e;
  };
  // Lowest share first; then the older head; then the key (stable).
  const heap = new Heap<Entry<Q>>((a, b) => {
    if (a.share !== b.share) return a.share < b.share;
    const ha = a.q.head().createdAt, hb = b.q.head().createdAt;
    if (ha !== hb) return ha < hb;
    return a.q.key < b.q.key;
  });
  return {
    push: (q) => heap.push(entryOf(q)),
    pop: () => heap.pop()?.q,
    placed(q, session) {
      const e = entryOf(q);
      for (const k in session.requestedSlots) {
        e.occupied[k] = (e.occupied[k] ?? 0) + session.requestedSlots[k];
      }
      e.share = dominantShare(e.occupied, ctx.clusterTotal);
    },
  };
}

/**
 * Dominant Resource Fairness across keypairs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { drf } from "./drf.ts";
 * const s = { id: "s", accessKey: "AK", requestedSlots: {}, createdAt: 0 };
 * assert.ok(drf.queueOf?.(s) === "AK");
 * ```
 */
export const drf: SchedulingPolicy<"drf"> = defineSchedulingPolicy({
  name: "drf",
  description:
    "Dominant Resource Fairness: the keypair with the lowest dominant share goes next",
  compare: (a, b) => a.createdAt - b.createdAt,
  queueOf: (s) => s.accessKey,
  arbiter: drfArbiter,
});
