/**
 * Supervision policy in one place (Erlang/OTP semantics): the defaults of a
 * {@link SupervisorStrategy}, which children a strategy touches when one
 * fails, and the restart-intensity window. The actor cell applies these;
 * nothing here touches actors, so the rules can be tested on their own.
 *
 * @module
 */

import type { ActorRef, Directive, SupervisorStrategy } from "./types.ts";

/** A strategy with every default filled in. */
export type ResolvedStrategy = Required<SupervisorStrategy>;

const alwaysRestart = (): Directive => "restart";

/** one_for_one, always restart, at most 3 restarts in 5 s. */
export const DEFAULT_STRATEGY: ResolvedStrategy = Object.freeze({
  kind: "one_for_one",
  decide: alwaysRestart,
  maxRestarts: 3,
  withinMs: 5000,
});

/** Fills the defaults of a strategy an actor returned (or none). */
export function resolveStrategy(s?: SupervisorStrategy): ResolvedStrategy {
  if (s === undefined) return DEFAULT_STRATEGY;
  return {
    kind: s.kind,
    decide: s.decide ?? alwaysRestart,
    maxRestarts: s.maxRestarts ?? DEFAULT_STRATEGY.maxRestarts,
    withinMs: s.withinMs ?? DEFAULT_STRATEGY.withinMs,
  };
}

/**
 * Applies `decide`, treating a throwing decider as "escalate" (a broken
 * policy must not be silently ignored).
 */
export function decideDirective(
  s: ResolvedStrategy,
  error: unknown,
  child: ActorRef,
): Directive {
  try {
    return s.decide(error, child);
  } catch {
    return "escalate";
  }
}

/**
 * The children a restart touches, in start order: only the failed one
 * (one_for_one), all (one_for_all), or the failed one and those started
 * after it (rest_for_one).
 */
export function affectedChildren<T>(
  kind: SupervisorStrategy["kind"],
  children: readonly T[],
  failed: T,
): T[] {
  switch (kind) {
    case "one_for_one":
      return [failed];
    case "one_for_all":
      return [...children];
    case "rest_for_one": {
      const i = children.indexOf(failed);
      return i < 0 ? [failed] : children.slice(i);
    }
  }
}

/**
 * Restart intensity of one supervisor: at most `maxRestarts` restarts within
 * any `withinMs` window; one more means the supervisor gives up (escalates).
 */
export class RestartIntensity {
  #log: number[] = [];

  /**
   * Records a restart at `now` if the window allows it; returns false (and
   * records nothing) when this restart would exceed the intensity.
   */
  allow(maxRestarts: number, withinMs: number, now: number): boolean {
    const log = this.#log;
    let drop = 0;
    while (drop < log.length && log[drop] <= now - withinMs) drop++;
    if (drop > 0) log.splice(0, drop);
    if (log.length >= maxRestarts) return false;
    log.push(now);
    return true;
  }
}

/** What a supervisor does about one failed child. */
export type SupervisionAction<T> =
  | { readonly kind: "resume" }
  | { readonly kind: "stop" }
  /** Restart these children (start order), the failed one among them. */
  | { readonly kind: "restart"; readonly children: T[] }
  | { readonly kind: "escalate" };

/**
 * Decides what to do about `failed`: the directive of `strategy` (its
 * defaults filled), turned into "escalate" when a restart would exceed the
 * restart intensity, and for a restart the children the strategy touches
 * (`live()`: the running children in start order).
 */
export function superviseFailure<T>(
  strategy: SupervisorStrategy | undefined,
  intensity: RestartIntensity,
  error: unknown,
  failed: T,
  failedRef: ActorRef,
  live: () => T[],
  now: number,
): SupervisionAction<T> {
  const s = resolveStrategy(strategy);
  const d = decideDirective(s, error, failedRef);
  if (d !== "restart") return { kind: d };
  if (!intensity.allow(s.maxRestarts, s.withinMs, now)) {
    return { kind: "escalate" };
  }
  return {
    kind: "restart",
    children: affectedChildren(s.kind, live(), failed),
  };
}

/**
 * OTP's restart order: every affected child torn down in reverse start
 * order, then each started again in start order, one phase at a time.
 */
export async function restartInOrder<T>(
  affected: readonly T[],
  phase: (child: T, step: "down" | "up") => Promise<void>,
): Promise<void> {
  for (let i = affected.length - 1; i >= 0; i--) {
    await phase(affected[i], "down");
  }
  for (const c of affected) await phase(c, "up");
}
