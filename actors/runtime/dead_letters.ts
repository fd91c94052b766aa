/**
 * Dead letters: messages the runtime could not deliver (no such actor, the
 * actor stopped with messages queued, no transport to a remote node). They
 * are counted always and handed to subscribers, so tests and operators can
 * see lost traffic instead of guessing.
 *
 * @module
 */

import type { Address, DeadLetter } from "./types.ts";

/** Counts undeliverable messages and publishes them to subscribers. */
export class DeadLetters {
  #count = 0;
  #subscribers: Set<(d: DeadLetter) => void> | undefined;

  /** Dead letters seen so far. */
  get count(): number {
    return this.#count;
  }

  /** Calls `fn` for each new dead letter; returns the unsubscribe function. */
  subscribe(fn: (d: DeadLetter) => void): () => void {
    (this.#subscribers ??= new Set()).add(fn);
    return () => {
      this.#subscribers?.delete(fn);
    };
  }

  /** Records one dead letter. A throwing subscriber does not stop the others. */
  publish(to: Address, message: unknown, reason: string): void {
    this.#count++;
    const subs = this.#subscribers;
    if (subs === undefined || subs.size === 0) return;
    const d: DeadLetter = {
      to: { node: to.node, path: to.path },
      message,
      reason,
    };
    for (const fn of subs) {
      try {
        fn(d);
      } catch (e) {
        console.error("dead-letter subscriber threw", e);
      }
    }
  }
}
