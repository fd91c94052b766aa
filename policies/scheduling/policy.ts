/**
 * The behaviour a scheduling policy implements (OTP's behaviour/callback
 * split): the generic pass in `schedule.ts` validates requests, refuses
 * what can never run, places sessions on agents (bin-pack or spread),
 * enforces head-of-line order and `numRetriesToSkip`; a policy supplies
 * only the order in which pending sessions are tried:
 *
 * - {@link SchedulingPolicy.compare}: the order inside one queue;
 * - {@link SchedulingPolicy.queueOf} (optional): how sessions split into
 *   queues (one queue for the whole group when absent);
 * - {@link SchedulingPolicy.arbiter} (optional): which queue's head goes
 *   next, told after every placement (when absent: the queue whose head
 *   comes first by `compare`).
 *
 * A new policy is one file that exports a {@link defineSchedulingPolicy}
 * value, its test, and one entry in `registry.ts`.
 *
 * @module
 */

import type { ResourceSlots } from "../slots.ts";
import type { PendingSession } from "./types.ts";
import { Heap } from "./_heap.ts";

/** One queue as an arbiter sees it. */
export interface QueueView {
  /** The queue's key: the `queueOf` of its sessions ("" for one queue). */
  readonly key: string;
  /** The session this queue would try next. Only called on a queue with one. */
  head(): PendingSession;
}

/**
 * Chooses which queue goes next during one pass. The pass pushes every
 * queue that has a session to try, pops one, tries its head, calls
 * {@link Arbiter.placed} when the head was placed, and pushes the queue
 * back while it still has sessions to try and is not blocked.
 */
export interface Arbiter<Q extends QueueView = QueueView> {
  /** A queue with a head to try joins (again). */
  push(q: Q): void;
  /** The queue whose head goes next; undefined when none is left. */
  pop(): Q | undefined;
  /** The head of `q`, `session`, was just placed (before `q` is pushed back). */
  placed?(q: Q, session: PendingSession): void;
}

/** What an arbiter may read about the group, fixed for one pass. */
export interface ArbiterContext {
  /** Total capacity of the group's agents that are not draining. */
  clusterTotal: ResourceSlots;
  /** Slots each keypair already occupies in the group. */
  occupiedByKeypair: Readonly<Record<string, ResourceSlots>>;
}

/** A scheduling policy: the order in which a group's pending sessions are tried. */
export interface SchedulingPolicy<N extends string = string> {
  /** The name it is registered under (the scaling group's `scheduler`). */
  readonly name: N;
  /** One line for operators (admin API, docs). */
  readonly description: string;
  /**
   * Order inside a queue: negative when `a` is tried before `b`. Ties keep
   * the order of the input.
   */
  compare(a: PendingSession, b: PendingSession): number;
  /**
   * The queue a session joins. Each queue is strict on its own (a head
   * that does not fit blocks the sessions behind it in that queue only).
   * @default {() => ""} (one queue)
   */
  queueOf?(session: PendingSession): string;
  /**
   * A fresh arbiter for one pass.
   * @default {the queue whose head comes first by `compare`, then by key}
   */
  arbiter?<Q extends QueueView>(ctx: ArbiterContext): Arbiter<Q>;
}

/**
 * Declares a policy, keeping its name as a literal type (so the registry
 * can derive the union of kinds) and freezing it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defineSchedulingPolicy } from "./policy.ts";
 * const smallestFirst = defineSchedulingPolicy({
 *   name: "smallest-first",
 *   description: "fewest cpus first",
 *   compare: (a, b) => (a.requestedSlots.cpu ?? 0) - (b.requestedSlots.cpu ?? 0),
 * });
 * assert.ok(smallestFirst.name === "smallest-first" && Object.isFrozen(smallestFirst));
 * ```
 */
export function defineSchedulingPolicy<const N extends string>(
  policy: SchedulingPolicy<N>,
): SchedulingPolicy<N> {
  return Object.freeze({ ...policy });
}

/**
 * The arbiter used when a policy defines none: the queue whose head comes
 * first by the policy's `compare`, ties by queue key.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { headOrderArbiter } from "./policy.ts";
 * const q = (key: string, createdAt: number) => ({
 *   key, head: () => ({ id: key, accessKey: key, requestedSlots: {}, createdAt }),
 * });
 * const a = headOrderArbiter((x, y) => x.createdAt - y.createdAt);
 * a.push(q("late", 5));
 * a.push(q("early", 1));
 * assert.ok(a.pop()?.key === "early");
 * ```
 */
export function headOrderArbiter<Q extends QueueView>(
  compare: (a: PendingSession, b: PendingSession) => number,
): Arbiter<Q> {
  const heap = new Heap<Q>((a, b) => {
    const c = compare(a.head(), b.head());
    return c !== 0 ? c < 0 : a.key < b.key;
  });
  return { push: (q) => heap.push(q), pop: () => heap.pop() };
}
