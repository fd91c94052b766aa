/**
 * Callers waiting for a session to reach a status (a create waiting for
 * RUNNING, a destroy for TERMINATED). The session actor tells it every
 * status it reaches; an ended status releases every waiter.
 *
 * @module
 */

import { isEnded, type SessionStatus } from "../lifecycle.ts";

export type Waited = SessionStatus | "TIMEOUT";

export class StatusWaiters {
  #waiters: { statuses: SessionStatus[]; resolve: (s: Waited) => void }[] = [];

  /**
   * Resolves with the status once it is one of `statuses` or an ended one
   * (at once if `now` is), or with `TIMEOUT` after `timeoutMs` (0: never).
   */
  wait(
    now: SessionStatus,
    statuses: SessionStatus[],
    timeoutMs: number,
  ): Promise<Waited> {
    if (statuses.includes(now) || isEnded(now)) return Promise.resolve(now);
    return new Promise((resolve) => {
      const entry = { statuses, resolve };
      this.#waiters.push(entry);
      if (timeoutMs > 0) {
        setTimeout(() => {
          const i = this.#waiters.indexOf(entry);
          if (i >= 0) this.#waiters.splice(i, 1);
          resolve("TIMEOUT");
        }, timeoutMs);
      }
    });
  }

  /** The session reached `status`. */
  reached(status: SessionStatus): void {
    const ended = isEnded(status);
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) {
      if (ended || w.statuses.includes(status)) w.resolve(status);
      else this.#waiters.push(w);
    }
  }
}
