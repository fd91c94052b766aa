/**
 * Automatic cost optimisation for idle sessions: a session with no run, no
 * open stream and no terminal (nothing holding it) for the keypair's idle
 * pause time is paused (SUSPENDED): its container is frozen, it pays its
 * memory only, and its other slots ({@link pausedSlots} keeps memory) go
 * back to the scheduler until the next request resumes it.
 *
 * @module
 */

import type { ResourceSlots } from "../slots.ts";

/** Input of {@link decideIdlePause}; times in ms. */
export interface IdlePauseInput {
  /** Current time. */
  now: number;
  /** Last use: a run, a stream, a file request, a terminal's activity. */
  lastActivityAt: number;
  /** Idle time before pausing; 0 or less = never. */
  idlePauseMs: number;
  /** A run is in progress. */
  busy: boolean;
  /** Open terminals, app proxies and other holders. */
  holds: number;
}

/** Outcome of {@link decideIdlePause}. */
export type IdlePauseDecision =
  | {
    pause: false;
    /** When the answer may change (ms); null when never (disabled or held). */
    nextCheckAt: number | null;
  }
  | {
    pause: true;
    /** The status reason the user sees. */
    reason: string;
  };

/**
 * Whether an idle session should be paused now: never while a run is in
 * progress or anything holds it, else once `idlePauseMs` passed since its
 * last use.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decideIdlePause } from "./idle_pause.ts";
 * const base = { lastActivityAt: 0, idlePauseMs: 60_000, busy: false, holds: 0 };
 * assert.ok(decideIdlePause({ ...base, now: 60_000 }).pause);
 * assert.deepEqual(decideIdlePause({ ...base, now: 10_000 }), { pause: false, nextCheckAt: 60_000 });
 * assert.ok(!decideIdlePause({ ...base, now: 1e9, holds: 1 }).pause);
 * ```
 */
export function decideIdlePause(input: IdlePauseInput): IdlePauseDecision {
  if (!(input.idlePauseMs > 0) || input.busy || input.holds > 0) {
    return { pause: false, nextCheckAt: null };
  }
  const at = input.lastActivityAt + input.idlePauseMs;
  if (input.now < at) return { pause: false, nextCheckAt: at };
  return {
    pause: true,
    reason: `paused: idle for ${
      formatSeconds(input.idlePauseMs)
    } (no run, stream or terminal); the next request resumes it`,
  };
}

function formatSeconds(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 120 && s % 60 === 0 ? `${s / 60} min` : `${s} s`;
}

/**
 * The slots a paused session keeps: its memory (the frozen processes stay
 * in RAM); every other slot returns to the scheduler.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pausedSlots } from "./idle_pause.ts";
 * assert.deepEqual(pausedSlots({ cpu: 2, mem: 1024, "cuda.device": 1 }), { mem: 1024 });
 * assert.deepEqual(pausedSlots({ cpu: 1 }), {});
 * ```
 */
export function pausedSlots(slots: ResourceSlots): ResourceSlots {
  return slots.mem === undefined ? {} : { mem: slots.mem };
}
