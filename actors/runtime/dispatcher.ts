/**
 * The scheduler every actor shares. An actor with work is put on one ready
 * queue once per idle→busy transition; one microtask drains the queue, each
 * actor handling up to {@link THROUGHPUT} messages per turn before it goes
 * to the back (fairness). After about {@link YIELD_AFTER} messages the drain
 * yields to the event loop with `setImmediate` (~6 µs here, where a nested
 * `setTimeout(0)` is clamped to ~2 ms), so timers and I/O run under load.
 * An actor is never on the queue twice and runs one message at a time, so
 * yielding cannot reorder or overlap its messages.
 *
 * @module
 */

import { setImmediate } from "node:timers";
import { scope } from "./trace_scope.ts";

/** What the dispatcher runs. */
export interface Runnable {
  /** True while on the ready queue. */
  queued: boolean;
  /** Handles up to `max` user messages (plus system messages); returns the work done. */
  run(max: number): number;
}

/** Messages one actor handles per turn before others get theirs. */
export const THROUGHPUT = 1000;
/** Work units after which the drain yields to the event loop. */
export const YIELD_AFTER = 2000;

let ready: Runnable[] = [];
let head = 0;
let draining = false;

/** Puts `r` on the ready queue unless it is already there. */
export function schedule(r: Runnable): void {
  if (r.queued) return;
  r.queued = true;
  ready.push(r);
  if (!draining) {
    draining = true;
    queueMicrotask(drain);
  }
}

/**
 * A turn runs outside any trace when a trace scope is installed
 * (trace_scope.ts): it was woken by whichever send came first, whose
 * context must not leak into the other actors' messages.
 */
function drain(): void {
  if (scope === undefined) drainTurn();
  else scope(undefined, drainTurn);
}

function drainTurn(): void {
  let work = 0;
  while (head < ready.length) {
    const r = ready[head];
    ready[head++] = undefined as unknown as Runnable;
    r.queued = false;
    try {
      work += r.run(THROUGHPUT) + 1;
    } catch (e) {
      console.error("actor runtime: run() threw", e);
    }
    if (work >= YIELD_AFTER) break;
  }
  if (head >= ready.length) {
    ready = [];
    head = 0;
    draining = false;
    return;
  }
  if (head > 4096) {
    ready = ready.slice(head);
    head = 0;
  }
  setImmediate(drain);
}
