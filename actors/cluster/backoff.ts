/**
 * Reconnect delays: exponential with jitter, so a fleet of agents that lost
 * the manager at the same moment does not dial back in lockstep.
 *
 * @module
 */

/** Options of {@link backoffDelay}. */
export interface BackoffOptions {
  /** Delay of the first retry. @default {200} */
  baseMs?: number;
  /** Ceiling of the delay. @default {10000} */
  maxMs?: number;
}

/**
 * Delay before retry number `attempt` (0-based): `min(max, base·2^attempt)`
 * scaled by a random factor in [0.5, 1) ("equal jitter": never less than half
 * the nominal delay, so retries cannot collapse into a tight loop).
 *
 * @example
 * ```ts
 * import { backoffDelay } from "./backoff.ts";
 * const d = backoffDelay(3, { baseMs: 100, maxMs: 1000 }, () => 0);
 * if (d !== 400) throw new Error(String(d));
 * ```
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const base = options.baseMs ?? 200;
  const max = options.maxMs ?? 10_000;
  const nominal = Math.min(max, base * 2 ** Math.min(Math.max(0, attempt), 30));
  return Math.round(nominal * (0.5 + random() * 0.5));
}
