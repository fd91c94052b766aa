/**
 * Failed sign-ins, limited per client address and per access key so that
 * guessing secret keys is slow from one place and against one key from
 * many places. A fixed window per subject: after `limit` failures within
 * `windowMs` the subject is refused until the window ends. A successful
 * sign-in clears its key's count (not its address's: one right key must
 * not hide many wrong ones).
 *
 * Memory is bounded: each table keeps at most `maxEntries` subjects and
 * forgets the one that failed longest ago when full. A flood of made-up
 * keys therefore cannot push out an address that keeps failing, since
 * every failure moves its subject to the young end.
 *
 * @module
 */

/** Options of {@link SigninLimiter}. */
export interface SigninLimiterOptions {
  /** Failures one address may make per window. @default {20} */
  perAddress?: number;
  /** Failures against one access key per window. @default {10} */
  perKey?: number;
  /** Window length, ms. @default {900000} (15 min, as the API's rate window) */
  windowMs?: number;
  /** Subjects kept per table. @default {10000} */
  maxEntries?: number;
  /** Clock, ms. @default {Date.now} */
  now?: () => number;
}

const DEFAULTS = {
  perAddress: 20,
  perKey: 10,
  windowMs: 900_000,
  maxEntries: 10_000,
  now: Date.now,
} satisfies Required<SigninLimiterOptions>;

interface Entry {
  failures: number;
  windowStart: number;
}

/** The verdict of {@link SigninLimiter.check}. */
export type SigninVerdict =
  | { allowed: true }
  | { allowed: false; retryAfterMs: number };

/** A table of failure counts with a size bound, oldest failure evicted first. */
class FailureTable {
  readonly #entries = new Map<string, Entry>();

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    readonly maxEntries: number,
  ) {}

  /** Time left until `subject` may try again; 0 when it may now. */
  blockedFor(subject: string, now: number): number {
    const e = this.#entries.get(subject);
    if (!e) return 0;
    const end = e.windowStart + this.windowMs;
    if (now >= end) {
      this.#entries.delete(subject);
      return 0;
    }
    return e.failures >= this.limit ? end - now : 0;
  }

  fail(subject: string, now: number): void {
    const old = this.#entries.get(subject);
    const fresh = !old || now >= old.windowStart + this.windowMs;
    const e = fresh
      ? { failures: 1, windowStart: now }
      : { ...old, failures: old.failures + 1 };
    // Re-inserted, so Map order is "longest since last failure first".
    this.#entries.delete(subject);
    this.#entries.set(subject, e);
    while (this.#entries.size > this.maxEntries) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
  }

  clear(subject: string): void {
    this.#entries.delete(subject);
  }

  get size(): number {
    return this.#entries.size;
  }
}

/** Counts failed sign-ins and refuses subjects over their limit. */
export class SigninLimiter {
  readonly #byAddress: FailureTable;
  readonly #byKey: FailureTable;
  readonly #now: () => number;

  constructor(options: SigninLimiterOptions = {}) {
    const o = { ...DEFAULTS, ...options } satisfies Required<
      SigninLimiterOptions
    >;
    this.#byAddress = new FailureTable(o.perAddress, o.windowMs, o.maxEntries);
    this.#byKey = new FailureTable(o.perKey, o.windowMs, o.maxEntries);
    this.#now = o.now;
  }

  /** Whether a sign-in from `address` for `accessKey` may be tried now. */
  check(address: string, accessKey: string): SigninVerdict {
    const now = this.#now();
    const wait = Math.max(
      this.#byAddress.blockedFor(address, now),
      this.#byKey.blockedFor(accessKey, now),
    );
    return wait > 0 ? { allowed: false, retryAfterMs: wait } : {
      allowed: true,
    };
  }

  /** Records a failed sign-in. */
  failed(address: string, accessKey: string): void {
    const now = this.#now();
    this.#byAddress.fail(address, now);
    this.#byKey.fail(accessKey, now);
  }

  /** Records a successful sign-in: the key's failures are forgotten. */
  succeeded(accessKey: string): void {
    this.#byKey.clear(accessKey);
  }

  /** Subjects held, per table (for tests and metrics). */
  get sizes(): { addresses: number; keys: number } {
    return { addresses: this.#byAddress.size, keys: this.#byKey.size };
  }
}
