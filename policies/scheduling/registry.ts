/**
 * The scheduling policies this build knows, by name. The one list a new
 * policy joins (one line), and the source of the {@link SchedulerKind}
 * union and {@link SCHEDULER_KINDS} that the admin API, the store and the
 * scheduler actor validate against (the database keeps no CHECK of its
 * own).
 *
 * @module
 */

import type { SchedulingPolicy } from "./policy.ts";
import { drf } from "./drf.ts";
import { fifo } from "./fifo.ts";
import { lifo } from "./lifo.ts";

/** Every registered policy. The first is the default. */
const POLICIES = [fifo, lifo, drf] as const;

/** Name of a registered scheduling policy (`scaling_groups.scheduler`). */
export type SchedulerKind = (typeof POLICIES)[number]["name"];

/**
 * Every registered name, in registration order; a non-empty tuple, so
 * `z.enum(SCHEDULER_KINDS)` works.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SCHEDULER_KINDS } from "./registry.ts";
 * assert.deepEqual([...SCHEDULER_KINDS], ["fifo", "lifo", "drf"]);
 * ```
 */
export const SCHEDULER_KINDS: readonly [SchedulerKind, ...SchedulerKind[]] =
  Object.freeze(POLICIES.map((p) => p.name)) as unknown as readonly [
    SchedulerKind,
    ...SchedulerKind[],
  ];

/** The kind a scaling group gets when none is set. */
export const DEFAULT_SCHEDULER: SchedulerKind = POLICIES[0].name;

const BY_NAME: ReadonlyMap<string, SchedulingPolicy<SchedulerKind>> = new Map(
  POLICIES.map((p) => [p.name, p]),
);

/**
 * Whether `name` is a registered kind (for values read back from the
 * store or an HTTP body).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isSchedulerKind } from "./registry.ts";
 * assert.ok(isSchedulerKind("drf") && !isSchedulerKind("round-robin"));
 * ```
 */
export function isSchedulerKind(name: unknown): name is SchedulerKind {
  return typeof name === "string" && BY_NAME.has(name);
}

/** Raised by {@link schedulingPolicy} for a name no policy is registered under. */
export class UnknownSchedulerError extends Error {
  override readonly name = "UnknownSchedulerError";
  /** The name asked for. */
  readonly kind: string;
  constructor(kind: string) {
    super(
      `Unknown scheduler ${JSON.stringify(kind)}; known: ${
        SCHEDULER_KINDS.join(", ")
      }`,
    );
    this.kind = kind;
  }
}

/**
 * The policy registered under `kind`. Throws {@link UnknownSchedulerError}
 * for any other string.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { schedulingPolicy } from "./registry.ts";
 * assert.ok(schedulingPolicy("lifo").name === "lifo");
 * assert.throws(() => schedulingPolicy("nope" as "fifo"));
 * ```
 */
export function schedulingPolicy(
  kind: SchedulerKind,
): SchedulingPolicy<SchedulerKind> {
  const p = BY_NAME.get(kind);
  if (!p) throw new UnknownSchedulerError(kind);
  return p;
}
