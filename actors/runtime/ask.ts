/**
 * Pending asks and their timeouts. A `setTimeout` per ask costs about 5 µs
 * here (create + clear), more than the whole local round trip, so asks share
 * one timer: they sit in a FIFO per timeout length (deadlines within one
 * length are monotonic), the timer is armed for the earliest deadline, and
 * settled asks are dropped lazily from the heads. When nothing is pending
 * the timer is cleared on the next macrotask, so idle programs and tests
 * hold no timer.
 *
 * @module
 */

import { setImmediate } from "node:timers";
import { type Address, AskTimeoutError, type Reply } from "./types.ts";

/** Something with a deadline the {@link TimeoutQueue} can expire. */
export interface Expirable {
  deadline: number;
  settled: boolean;
  expire(): void;
}

class Fifo {
  items: Expirable[] = [];
  head = 0;
  get first(): Expirable | undefined {
    return this.items[this.head];
  }
  shift(): void {
    this.items[this.head++] = undefined as unknown as Expirable;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
  get empty(): boolean {
    return this.head >= this.items.length;
  }
}

/** One shared timer for many deadlines. */
export class TimeoutQueue {
  #buckets = new Map<number, Fifo>();
  #pending = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #armedAt = Infinity;
  #clearScheduled = false;

  /** Unsettled entries. */
  get pending(): number {
    return this.#pending;
  }

  /** Tracks `e`, expiring it `ms` from now unless it settles first (then call {@link settled}). */
  add(e: Expirable, ms: number): void {
    const now = performance.now();
    e.deadline = now + ms;
    let b = this.#buckets.get(ms);
    if (b === undefined) this.#buckets.set(ms, b = new Fifo());
    while (!b.empty && b.first!.settled) b.shift();
    b.items.push(e);
    this.#pending++;
    if (e.deadline < this.#armedAt) this.#arm(e.deadline, now);
  }

  /** An entry added with {@link add} settled. */
  settled(): void {
    if (--this.#pending === 0 && !this.#clearScheduled) {
      this.#clearScheduled = true;
      setImmediate(this.#maybeClear);
    }
  }

  #arm(at: number, now: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#armedAt = at;
    this.#timer = setTimeout(this.#fire, Math.max(0, Math.ceil(at - now)));
  }

  #maybeClear = (): void => {
    this.#clearScheduled = false;
    if (this.#pending !== 0) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedAt = Infinity;
    this.#buckets.clear();
  };

  #fire = (): void => {
    this.#timer = undefined;
    this.#armedAt = Infinity;
    const now = performance.now();
    let next = Infinity;
    for (const [ms, b] of this.#buckets) {
      while (!b.empty) {
        const e = b.first!;
        if (e.settled) b.shift();
        else if (e.deadline <= now) {
          b.shift();
          e.expire();
        } else break;
      }
      if (b.empty) this.#buckets.delete(ms);
      else if (b.first!.deadline < next) next = b.first!.deadline;
    }
    if (next !== Infinity && this.#pending > 0) this.#arm(next, now);
  };
}

/** The queue all asks and stop deadlines of this process share. */
export const timeouts: TimeoutQueue = new TimeoutQueue();

/**
 * An ask awaiting its answer: the promise the caller holds, settled once by
 * the target's reply, its timeout, or its abort signal.
 */
export class PendingAsk implements Reply, Expirable {
  deadline = 0;
  settled = false;
  readonly promise: Promise<unknown>;
  #resolve!: (v: unknown) => void;
  #reject!: (e: unknown) => void;
  #signal: AbortSignal | undefined;
  #onAbort: (() => void) | undefined;

  constructor(
    readonly to: Address,
    readonly timeoutMs: number,
    signal?: AbortSignal,
    /** The trace context the message carries (see {@link Reply.traceparent}). */
    readonly traceparent?: string,
  ) {
    this.promise = new Promise((res, rej) => {
      this.#resolve = res;
      this.#reject = rej;
    });
    if (signal !== undefined) {
      if (signal.aborted) {
        this.settled = true;
        this.#reject(signal.reason);
        return;
      }
      this.#signal = signal;
      this.#onAbort = () => this.reject(signal.reason);
      signal.addEventListener("abort", this.#onAbort, { once: true });
    }
    if (timeoutMs >= 0 && timeoutMs !== Infinity) timeouts.add(this, timeoutMs);
  }

  resolve(value: unknown): void {
    if (this.#settle()) this.#resolve(value);
  }

  reject(error: unknown): void {
    if (this.#settle()) this.#reject(error);
  }

  expire(): void {
    this.reject(new AskTimeoutError(this.to, this.timeoutMs));
  }

  #settle(): boolean {
    if (this.settled) return false;
    this.settled = true;
    if (this.timeoutMs >= 0 && this.timeoutMs !== Infinity) {
      timeouts.settled();
    }
    if (this.#signal !== undefined) {
      this.#signal.removeEventListener("abort", this.#onAbort!);
      this.#signal = undefined;
    }
    return true;
  }
}
