/**
 * Pure policy decisions of the platform: slot arithmetic, rate limiting,
 * admission against resource policies, scheduling, autoscaling with
 * scale-in protection, cost and session expiry. No I/O and no clock reads:
 * time comes in as `now` (ms), so every decision is testable alone.
 *
 * @module
 */

export * from "./slots.ts";
export * from "./rate_limit.ts";
export * from "./admission.ts";
export * from "./scheduling/mod.ts";
export * from "./scale_in.ts";
export * from "./scale_out.ts";
export * from "./protection.ts";
export * from "./cost/mod.ts";
export * from "./idle.ts";
