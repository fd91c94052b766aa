/**
 * Per-keypair rate limiting (API.md "Rate limiting"): every authorized
 * request counts one hit in the keypair's rolling 900 s window through
 * `deps.keypairs.hit`; over the limit → 429. {@link rateLimitHeaders} stamps
 * the `X-RateLimit-*` headers on every response, anonymous ones included.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import type { GatewayEnv } from "./context.ts";
import type { KeypairDeps } from "../actors/manager/port/mod.ts";
import { RateLimitExceeded } from "./problems.ts";

/** Length of the rolling window, seconds. */
export const RATE_LIMIT_WINDOW_S = 900;

/** What anonymous responses advertise. */
export const ANONYMOUS_RATE_LIMIT = 1000;

/** Options of {@link rateLimit}. */
export interface RateLimitOptions {
  /** Limit for keypairs without their own `rateLimit`. @default {1000} */
  defaultRateLimit?: number;
  /** Clock, for tests. @default {Date.now} */
  now?: () => number;
}

/** Counts a hit for an authenticated request; anonymous ones pass. */
export function rateLimit(
  keypairs: KeypairDeps,
  options: RateLimitOptions = {},
): MiddlewareHandler<GatewayEnv> {
  const fallback = options.defaultRateLimit ?? 1000;
  const now = options.now ?? Date.now;
  return async (c, next) => {
    const kp = c.get("keypair");
    if (kp) {
      const limit = kp.rateLimit ?? fallback;
      const { allowed, remaining } = await keypairs.hit(
        kp.accessKey,
        limit,
        now(),
      );
      c.set("rateLimit", { limit, remaining: Math.max(0, remaining) });
      if (!allowed) throw new RateLimitExceeded();
    }
    await next();
  };
}

/** Sets the `X-RateLimit-*` headers from the context (anonymous: 1000/1000). */
export function setRateLimitHeaders(
  headers: Headers,
  counted: { limit: number; remaining: number } | undefined,
): void {
  headers.set(
    "X-RateLimit-Limit",
    String(counted?.limit ?? ANONYMOUS_RATE_LIMIT),
  );
  headers.set(
    "X-RateLimit-Remaining",
    String(counted?.remaining ?? ANONYMOUS_RATE_LIMIT),
  );
  headers.set("X-RateLimit-Window", String(RATE_LIMIT_WINDOW_S));
}
