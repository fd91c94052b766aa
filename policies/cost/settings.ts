/**
 * A keypair's own cost settings (`GET/PUT /x/cost/settings`): its daily
 * limit (never above its resource policy's `daily_cost_limit`), what the
 * limit does to running sessions, "maintain", the time zone of its cost
 * day and how long a session may sit idle before it is paused.
 *
 * {@link KeypairCostSettingsSchema} validates a stored or complete value,
 * {@link KeypairCostSettingsPatchSchema} a PUT body (fields left out keep
 * their value); {@link effectiveDailyLimit} is the limit enforced.
 *
 * @module
 */

import { z } from "zod";
import { isValidTimeZone } from "./day.ts";
import { COST_ACTIONS, type CostSettings } from "./limit.ts";

/** Longest idle-pause time accepted (30 days), seconds. */
export const MAX_IDLE_PAUSE_SECONDS = 30 * 86_400;

/** A keypair's cost settings, complete. */
export interface KeypairCostSettings extends Required<CostSettings> {
  /**
   * The keypair's own daily limit; null: its policy's limit alone. The
   * enforced limit is the smaller of the two ({@link effectiveDailyLimit}).
   */
  dailyCostLimit: number | null;
  /** Seconds without a run, stream or terminal before a session is paused; 0 = never. */
  idlePauseSeconds: number;
}

const fields = {
  dailyCostLimit: z.number().nonnegative().finite().nullable(),
  idlePauseSeconds: z.number().int().min(0).max(MAX_IDLE_PAUSE_SECONDS),
  action: z.enum(COST_ACTIONS),
  warnRatio: z.number().gt(0).max(1),
  maintain: z.boolean(),
  timeZone: z.string().max(64).refine(isValidTimeZone, {
    message: "unknown time zone",
  }),
};

/** Every default: no own limit, never pause, pause at the limit, warn at 80 %, UTC. */
export const DEFAULT_KEYPAIR_COST_SETTINGS: Readonly<KeypairCostSettings> =
  Object.freeze({
    dailyCostLimit: null,
    idlePauseSeconds: 0,
    action: "pause",
    warnRatio: 0.8,
    maintain: false,
    timeZone: "UTC",
  });

/**
 * Complete settings, defaults filled; unknown keys refused.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { KeypairCostSettingsSchema } from "./settings.ts";
 * const s = KeypairCostSettingsSchema.parse({ idlePauseSeconds: 600 });
 * assert.equal(s.action, "pause");
 * assert.equal(s.dailyCostLimit, null);
 * assert.ok(!KeypairCostSettingsSchema.safeParse({ idle: 1 }).success);
 * ```
 */
export const KeypairCostSettingsSchema: z.ZodType<
  KeypairCostSettings,
  Partial<KeypairCostSettings>
> = z.strictObject({
  dailyCostLimit: fields.dailyCostLimit.default(null),
  idlePauseSeconds: fields.idlePauseSeconds.default(0),
  action: fields.action.default("pause"),
  warnRatio: fields.warnRatio.default(0.8),
  maintain: fields.maintain.default(false),
  timeZone: fields.timeZone.default("UTC"),
});

/**
 * A change of settings: any subset of the fields, nothing else.
 * `dailyCostLimit: null` clears the keypair's own limit.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { KeypairCostSettingsPatchSchema } from "./settings.ts";
 * assert.deepEqual(KeypairCostSettingsPatchSchema.parse({ maintain: true }), { maintain: true });
 * assert.ok(!KeypairCostSettingsPatchSchema.safeParse({ action: "explode" }).success);
 * ```
 */
export const KeypairCostSettingsPatchSchema: z.ZodType<
  Partial<KeypairCostSettings>
> = z.strictObject({
  dailyCostLimit: fields.dailyCostLimit.optional(),
  idlePauseSeconds: fields.idlePauseSeconds.optional(),
  action: fields.action.optional(),
  warnRatio: fields.warnRatio.optional(),
  maintain: fields.maintain.optional(),
  timeZone: fields.timeZone.optional(),
});

/**
 * The limit enforced: the smaller of the policy's and the keypair's own
 * (null or undefined: no limit from that side; null when neither limits).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { effectiveDailyLimit } from "./settings.ts";
 * assert.equal(effectiveDailyLimit(10, 4), 4);
 * assert.equal(effectiveDailyLimit(null, 4), 4);
 * assert.equal(effectiveDailyLimit(10, null), 10);
 * assert.equal(effectiveDailyLimit(undefined, null), null);
 * ```
 */
export function effectiveDailyLimit(
  policyLimit: number | null | undefined,
  own: number | null | undefined,
): number | null {
  const limits = [policyLimit, own].filter((x): x is number =>
    typeof x === "number" && Number.isFinite(x)
  );
  return limits.length ? Math.min(...limits) : null;
}

/**
 * Why `own` is not allowed under the policy's limit, or undefined when it
 * is: a keypair may lower its limit, never raise it above its policy's.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { limitAbovePolicy } from "./settings.ts";
 * assert.equal(limitAbovePolicy(5, 10), undefined);
 * assert.equal(limitAbovePolicy(null, 10), undefined);
 * assert.match(limitAbovePolicy(20, 10) ?? "", /above/);
 * assert.equal(limitAbovePolicy(20, null), undefined);
 * ```
 */
export function limitAbovePolicy(
  own: number | null | undefined,
  policyLimit: number | null | undefined,
): string | undefined {
  if (own === null || own === undefined) return undefined;
  if (policyLimit === null || policyLimit === undefined) return undefined;
  return own > policyLimit
    ? `dailyCostLimit ${own} is above the resource policy's daily_cost_limit ${policyLimit}`
    : undefined;
}
