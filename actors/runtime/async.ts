/**
 * The few async helpers the project needs, with the names and signatures of
 * `@std/async` (JSR is unreachable here, so it cannot be installed):
 * {@link delay}, {@link deadline}, {@link retry}, {@link pooledMap} and
 * {@link abortable}. Swapping in `@std/async` later is an import change.
 *
 * @module
 */

/** Options of {@link delay}. */
export interface DelayOptions {
  /** Rejects the delay early with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Whether the pending timer keeps the process alive.
   * @default {true}
   */
  persistent?: boolean;
}

/**
 * Resolves after `ms` milliseconds. When `signal` aborts first, the timer is
 * cleared and the promise rejects with `signal.reason`; an already-aborted
 * signal rejects at once. Negative or NaN `ms` behave like 0.
 *
 * @example Wait a little
 * ```ts
 * import { delay } from "./async.ts";
 * await delay(1);
 * ```
 */
export function delay(ms: number, options: DelayOptions = {}): Promise<void> {
  const { signal, persistent = true } = options;
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const abort = () => {
      clearTimeout(id);
      reject(signal!.reason);
    };
    const id = setTimeout(() => {
      signal?.removeEventListener("abort", abort);
      resolve();
    }, Math.max(0, ms || 0));
    signal?.addEventListener("abort", abort, { once: true });
    if (!persistent) Deno.unrefTimer(id);
  });
}

/** A {@link deadline} passed before the promise settled. */
export class DeadlineError extends Error {
  override name = "DeadlineError";
  constructor(readonly ms: number) {
    super(`deadline of ${ms} ms exceeded`);
  }
}

/** Options of {@link deadline}. */
export interface DeadlineOptions {
  /** Rejects early with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Settles like `p` if it settles within `ms` milliseconds, else rejects with
 * a {@link DeadlineError}. The timer is always cleared, so a settled deadline
 * leaves nothing pending; `p` itself is not cancelled (a promise cannot be).
 *
 * @example Bound a slow operation
 * ```ts
 * import { deadline, DeadlineError } from "./async.ts";
 * const never = new Promise(() => {});
 * try {
 *   await deadline(never, 10);
 * } catch (e) {
 *   if (!(e instanceof DeadlineError)) throw e;
 * }
 * ```
 */
export function deadline<T>(
  p: Promise<T>,
  ms: number,
  options: DeadlineOptions = {},
): Promise<T> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const done = () => {
      clearTimeout(id);
      signal?.removeEventListener("abort", abort);
    };
    const abort = () => {
      done();
      reject(signal!.reason);
    };
    const id = setTimeout(() => {
      done();
      reject(new DeadlineError(ms));
    }, Math.max(0, ms || 0));
    signal?.addEventListener("abort", abort, { once: true });
    p.then(
      (v) => {
        done();
        resolve(v);
      },
      (e) => {
        done();
        reject(e);
      },
    );
  });
}

/** {@link retry} gave up: every attempt failed. `cause` is the last error. */
export class RetryError extends Error {
  override name = "RetryError";
  constructor(cause: unknown, readonly attempts: number) {
    super(`Retrying exceeded the maxAttempts (${attempts}).`, { cause });
  }
}

/** Options of {@link retry}. */
export interface RetryOptions {
  /** Factor the timeout grows by after each failure. @default {2} */
  multiplier?: number;
  /** Upper bound of one wait, in ms. @default {60000} */
  maxTimeout?: number;
  /** Attempts before giving up with a {@link RetryError}. @default {5} */
  maxAttempts?: number;
  /** First wait, in ms. @default {1000} */
  minTimeout?: number;
  /** Fraction of each wait that is randomised away (0 = none, 1 = full jitter). @default {1} */
  jitter?: number;
}

/**
 * Calls `fn` until it resolves, waiting an exponentially growing, jittered
 * time between attempts; after `maxAttempts` failures rejects with a
 * {@link RetryError} whose `cause` is the last error.
 *
 * @example Retry a flaky call
 * ```ts
 * import { retry } from "./async.ts";
 * let n = 0;
 * const v = await retry(() => {
 *   if (++n < 3) throw new Error("flaky");
 *   return n;
 * }, { minTimeout: 1 });
 * if (v !== 3) throw new Error("unexpected");
 * ```
 */
export async function retry<T>(
  fn: () => Promise<T> | T,
  options: RetryOptions = {},
): Promise<T> {
  const {
    multiplier = 2,
    maxTimeout = 60000,
    maxAttempts = 5,
    minTimeout = 1000,
    jitter = 1,
  } = options;
  if (maxTimeout <= 0) throw new TypeError("maxTimeout must be positive");
  if (minTimeout > maxTimeout) {
    throw new TypeError("minTimeout must not exceed maxTimeout");
  }
  if (jitter < 0 || jitter > 1) {
    throw new RangeError("jitter must be between 0 and 1");
  }
  let attempt = 0;
  while (true) {
    try {
      return await fn();
    } catch (error) {
      if (attempt + 1 >= maxAttempts) throw new RetryError(error, maxAttempts);
      const exp = Math.min(maxTimeout, minTimeout * multiplier ** attempt);
      await delay((1 - jitter * Math.random()) * exp);
    }
    attempt++;
  }
}

const ERROR_WHILE_MAPPING_MESSAGE =
  "Cannot complete the mapping as an error was thrown from an item";

/**
 * Maps `array` through `iteratorFn` with at most `poolLimit` calls in flight,
 * yielding results in input order. If any call rejects, the iterator throws
 * an `AggregateError` of every rejection once the in-flight calls settled.
 *
 * @example Bounded concurrency
 * ```ts
 * import { pooledMap } from "./async.ts";
 * const out: number[] = [];
 * for await (const x of pooledMap(2, [1, 2, 3], async (n) => n * 2)) out.push(x);
 * if (out.join() !== "2,4,6") throw new Error("unexpected");
 * ```
 */
export function pooledMap<T, R>(
  poolLimit: number,
  array: Iterable<T> | AsyncIterable<T>,
  iteratorFn: (data: T) => Promise<R>,
): AsyncIterableIterator<R> {
  const res = new TransformStream<Promise<R>, R>({
    async transform(p, controller) {
      try {
        controller.enqueue(await p);
      } catch (e) {
        if (
          e instanceof AggregateError &&
          e.message === ERROR_WHILE_MAPPING_MESSAGE
        ) controller.error(e);
      }
    },
  });
  (async () => {
    const writer = res.writable.getWriter();
    const executing: Promise<unknown>[] = [];
    try {
      for await (const item of array) {
        const p = Promise.resolve().then(() => iteratorFn(item));
        writer.write(p).catch(() => {});
        const e: Promise<unknown> = p.then(() =>
          executing.splice(executing.indexOf(e), 1)
        );
        executing.push(e);
        if (executing.length >= poolLimit) await Promise.race(executing);
      }
      await Promise.all(executing);
      writer.close();
    } catch {
      const errors: unknown[] = [];
      for (const r of await Promise.allSettled(executing)) {
        if (r.status === "rejected") errors.push(r.reason);
      }
      writer.write(
        Promise.reject(new AggregateError(errors, ERROR_WHILE_MAPPING_MESSAGE)),
      ).catch(() => {});
    }
  })();
  return res.readable[Symbol.asyncIterator]();
}

/**
 * Makes a promise (or async iterable) reject with `signal.reason` as soon as
 * `signal` aborts; the underlying work is not cancelled, only abandoned.
 *
 * @example Abandon a slow promise
 * ```ts
 * import { abortable } from "./async.ts";
 * const c = new AbortController();
 * const p = abortable(new Promise(() => {}), c.signal);
 * c.abort(new Error("enough"));
 * await p.catch((e) => { if (e.message !== "enough") throw e; });
 * ```
 */
export function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T>;
export function abortable<T>(
  p: AsyncIterable<T>,
  signal: AbortSignal,
): AsyncGenerator<T>;
export function abortable<T>(
  p: Promise<T> | AsyncIterable<T>,
  signal: AbortSignal,
): Promise<T> | AsyncGenerator<T> {
  if (p instanceof Promise) return abortablePromise(p, signal);
  return abortableIterable(p, signal);
}

function abortablePromise<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(signal.reason);
    signal.addEventListener("abort", abort, { once: true });
    p.then(resolve, reject).finally(() =>
      signal.removeEventListener("abort", abort)
    );
  });
}

async function* abortableIterable<T>(
  p: AsyncIterable<T>,
  signal: AbortSignal,
): AsyncGenerator<T> {
  signal.throwIfAborted();
  const it = p[Symbol.asyncIterator]();
  while (true) {
    const r = await abortablePromise(it.next(), signal);
    if (r.done) return;
    yield r.value;
  }
}
