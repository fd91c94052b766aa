/**
 * Dead letters: messages the runtime could not deliver (no such actor, the
 * actor stopped with messages queued, no transport to a remote node). They
 * are counted always and handed to subscribers, so tests and operators can
 * see lost traffic instead of guessing.
 *
 * @module
 */

import type { Address, DeadLetter } from "./types.ts";

/** Distinct reasons counted apart; any further ones are counted as "other". */
const MAX_REASONS = 32;

/** Counts undeliverable messages and publishes them to subscribers. */
export class DeadLetters {
  #count = 0;
  #byReason = new Map<string, number>();
  #subscribers: Set<(d: DeadLetter) => void> | undefined;

  /** Dead letters seen so far. */
  get count(): number {
    return this.#count;
  }

  /**
   * Dead letters seen so far by reason ("no such actor", "actor stopped",
   * "mailbox full", "no transport", "entity region stopped"), for a metrics
   * collector. Bounded: past 32 distinct reasons the rest count as "other".
   */
  byReason(): Record<string, number> {
    return Object.fromEntries(this.#byReason);
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
    const m = this.#byReason;
    const key = m.has(reason) || m.size < MAX_REASONS ? reason : "other";
    m.set(key, (m.get(key) ?? 0) + 1);
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
