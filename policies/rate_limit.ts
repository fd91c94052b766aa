/**
 * Per-keypair API rate limit over a rolling window (900 s in Backend.AI),
 * exact rather than approximate: it keeps the timestamp of every *accepted*
 * request still inside the window (a sliding log), so at most `limit`
 * requests are accepted in any window, whatever their spacing. Memory is
 * bounded by `limit` timestamps.
 *
 * The window is half-open, `(now - window, now]`, like Backend.AI's Redis
 * script (`ZREMRANGEBYSCORE key 0 now-window`): a request made exactly one
 * window after an earlier one no longer sees it.
 *
 * Unlike Backend.AI, refused requests are not logged: a client that keeps
 * hammering gets its slots back as its accepted requests age out, and the
 * log never grows past `limit`.
 *
 * The state is a value: {@link checkRateLimit} returns a new state and
 * leaves the old one meaning what it meant. Internally states share one
 * append-only array (copied only when an old state is reused), so a check is
 * O(1) amortised instead of copying the log.
 *
 * @module
 */

/** Backend.AI's rate-limit window: 15 minutes. */
export const RATE_LIMIT_WINDOW_MS = 900_000;

/** Default per-keypair limit when the keypair row has none. */
export const DEFAULT_RATE_LIMIT = 1000;

/**
 * Opaque limiter state for one keypair. Create it with
 * {@link emptyRateLimitState}; only {@link checkRateLimit} and
 * {@link rateLimitCount} should look inside.
 */
export interface RateLimitState {
  /** Shared append-only log; entries `[head, end)` belong to this state. */
  readonly log: number[];
  /** Index of the oldest timestamp still counted. */
  readonly head: number;
  /** One past the newest timestamp of this state. */
  readonly end: number;
}

/** Options of {@link checkRateLimit}. */
export interface RateLimitOptions {
  /**
   * Rolling window length in milliseconds.
   * @default {900000}
   */
  windowMs?: number;
}

/** Result of {@link checkRateLimit}. */
export interface RateLimitDecision {
  /** Whether this request may proceed. */
  allowed: boolean;
  /** Requests still allowed in the window after this one (never negative). */
  remaining: number;
  /**
   * When refused: milliseconds until the oldest counted request leaves the
   * window and one more would be accepted (for `Retry-After`). 0 if allowed.
   */
  retryAfterMs: number;
  /** The state to keep for the next check. */
  state: RateLimitState;
}

/**
 * A limiter state with no requests in it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { emptyRateLimitState, rateLimitCount } from "./rate_limit.ts";
 * assert.ok(rateLimitCount(emptyRateLimitState(), 0) === 0);
 * ```
 */
export function emptyRateLimitState(): RateLimitState {
  return { log: [], head: 0, end: 0 };
}

/**
 * Decides whether a request at `now` (ms) is within `limit` requests per
 * window, and records it if so. `limit` may change between calls (the
 * keypair's policy was edited); lowering it below the current count refuses
 * until enough requests age out. A non-finite `limit` (Infinity) allows
 * everything without recording. Time going backwards is treated as the
 * latest time seen, so the log stays ordered and the count never drops
 * early.
 *
 * Throws `RangeError` for a negative or NaN `limit` or a non-positive
 * window.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkRateLimit, emptyRateLimitState } from "./rate_limit.ts";
 * let state = emptyRateLimitState();
 * const a = checkRateLimit(state, 0, 1);
 * const b = checkRateLimit(a.state, 899_999, 1);
 * const c = checkRateLimit(b.state, 900_000, 1);
 * assert.ok(a.allowed && !b.allowed && c.allowed);
 * ```
 */
export function checkRateLimit(
  state: RateLimitState,
  now: number,
  limit: number,
  options: RateLimitOptions = {},
): RateLimitDecision {
  const windowMs = options.windowMs ?? RATE_LIMIT_WINDOW_MS;
  if (Number.isNaN(limit) || limit < 0) {
    throw new RangeError(`rate limit must be >= 0, got ${limit}`);
  }
  if (!(windowMs > 0)) {
    throw new RangeError(`rate-limit window must be > 0, got ${windowMs}`);
  }
  if (limit === Infinity) {
    return { allowed: true, remaining: Infinity, retryAfterMs: 0, state };
  }
  limit = Math.floor(limit);
  let { log, head, end } = state;
  if (end > head && now < log[end - 1]) now = log[end - 1];
  const cutoff = now - windowMs;
  while (head < end && log[head] <= cutoff) head++;
  const count = end - head;
  if (count >= limit) {
    const retryAfterMs = count === 0 ? windowMs : log[head] + windowMs - now;
    const kept = head === state.head ? state : { log, head, end };
    return { allowed: false, remaining: 0, retryAfterMs, state: kept };
  }
  if (log.length !== end) {
    // An older state is being reused: entries past `end` belong to a newer
    // state, so branch onto a private copy.
    log = log.slice(head, end);
    end -= head;
    head = 0;
  } else if (head > 64 && head * 2 > end) {
    // Drop the expired prefix once it dominates, keeping memory ~2x limit.
    log = log.slice(head, end);
    end -= head;
    head = 0;
  }
  log.push(now);
  end++;
  return {
    allowed: true,
    remaining: limit - (end - head),
    retryAfterMs: 0,
    state: { log, head, end },
  };
}

/**
 * Number of accepted requests counted in the window ending at `now`,
 * without recording anything.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkRateLimit, emptyRateLimitState, rateLimitCount } from "./rate_limit.ts";
 * const { state } = checkRateLimit(emptyRateLimitState(), 1000, 10);
 * assert.ok(rateLimitCount(state, 1000) === 1);
 * assert.ok(rateLimitCount(state, 1000 + 900_000) === 0);
 * ```
 */
export function rateLimitCount(
  state: RateLimitState,
  now: number,
  options: RateLimitOptions = {},
): number {
  const cutoff = now - (options.windowMs ?? RATE_LIMIT_WINDOW_MS);
  let head = state.head;
  while (head < state.end && state.log[head] <= cutoff) head++;
  return state.end - head;
}

/** The three rate-limit headers every authorized response carries. */
export interface RateLimitHeaders {
  "X-RateLimit-Limit": string;
  "X-RateLimit-Remaining": string;
  "X-RateLimit-Window": string;
}

/**
 * Header values for a response: limit, remaining and window in seconds.
 * Anonymous responses use {@link ANONYMOUS_RATE_LIMIT_HEADERS}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rateLimitHeaders } from "./rate_limit.ts";
 * const h = rateLimitHeaders(1000, 999);
 * assert.ok(h["X-RateLimit-Window"] === "900");
 * ```
 */
export function rateLimitHeaders(
  limit: number,
  remaining: number,
  windowMs: number = RATE_LIMIT_WINDOW_MS,
): RateLimitHeaders {
  return {
    "X-RateLimit-Limit": String(limit),
    "X-RateLimit-Remaining": String(Math.max(0, remaining)),
    "X-RateLimit-Window": String(Math.round(windowMs / 1000)),
  };
}

/** What Backend.AI sends on anonymous responses: 1000 / 1000 / 900. */
export const ANONYMOUS_RATE_LIMIT_HEADERS: Readonly<RateLimitHeaders> = Object
  .freeze(rateLimitHeaders(DEFAULT_RATE_LIMIT, DEFAULT_RATE_LIMIT));
