/**
 * A session's query count and last activity go to the store at most once
 * per {@link ACTIVITY_SAVE_MS}: a store write per query cost each query a
 * database transaction (~0.1 ms of the manager's CPU, more of the
 * database's). The live actor answers from memory; a manager restart loses
 * at most that much of the count (and finds the session idle that much
 * earlier).
 *
 * @module
 */

/** How often a busy session's query count reaches the store. */
export const ACTIVITY_SAVE_MS = 1_000;

/** Coalesces activity writes of one session. */
export class ActivitySaver {
  #timer?: ReturnType<typeof setTimeout>;

  /** `save` writes the current figures (it reads them when it runs). */
  constructor(readonly save: () => Promise<void>) {}

  /** A query ran: a write is due within ACTIVITY_SAVE_MS. */
  touched(): void {
    this.#timer ??= setTimeout(() => this.flush(), ACTIVITY_SAVE_MS);
  }

  /** Writes now if a write is due (the actor stops or restarts). */
  flush(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    void this.save().catch(() => undefined);
  }
}
