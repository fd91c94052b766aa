/**
 * What sessions cost, and what the platform does about it: price tables
 * per scaling group ({@link PriceTableSchema}), metered usage and its price
 * ({@link usageCost}, {@link accruedCost}), estimates ({@link estimate}),
 * today's cost with midnight in a configured zone ({@link costToday}), the
 * live daily limit ({@link costVerdict}), "maintain workload in the
 * selected cost" ({@link decideStartWithinBudget}) and the cheapest group
 * ({@link cheapestGroup}); a keypair's own settings
 * ({@link KeypairCostSettingsSchema}), idle sessions paused
 * ({@link decideIdlePause}) and usage statistics ({@link usageByDay}).
 *
 * @module
 */

export {
  FREE_PRICES,
  isDeviceSlot,
  pricesFor,
  type PriceTable,
  PriceTableSchema,
  PriceTablesSchema,
} from "./prices.ts";
export {
  accruedCost,
  allocationUsage,
  type CostBreakdown,
  type HeldDurations,
  InvalidUsageError,
  type MeteredUsage,
  MS_PER_HOUR,
  scaleCost,
  usageCost,
} from "./meter.ts";
export {
  type DayWindow,
  dayWindow,
  hoursLeftInDay,
  InvalidTimeZoneError,
  isValidTimeZone,
  localTimeOfDay,
} from "./day.ts";
export {
  costByKeypair,
  type CostRecord,
  type CostToday,
  costToday,
  type CostTodayInput,
  dailyCost,
  heldWithin,
  type MeterPhase,
  type MeterState,
  type PricedSession,
  sessionCostWithin,
} from "./daily.ts";
export { type Estimate, estimate, hourlyCost } from "./estimate.ts";
export {
  COST_ACTIONS,
  type CostAction,
  type CostSettings,
  CostSettingsSchema,
  type CostVerdict,
  costVerdict,
  formatCost,
  limitStatusReason,
} from "./limit.ts";
export {
  type BudgetDecision,
  type BudgetInput,
  decideStartWithinBudget,
  projectDayCost,
  type Projection,
  type ProjectionInput,
} from "./maintain.ts";
export {
  type CheapestGroup,
  cheapestGroup,
  type CheapestOptions,
  type GroupOffer,
  type GroupQuote,
} from "./cheapest.ts";
export {
  DEFAULT_KEYPAIR_COST_SETTINGS,
  effectiveDailyLimit,
  type KeypairCostSettings,
  KeypairCostSettingsPatchSchema,
  KeypairCostSettingsSchema,
  limitAbovePolicy,
  MAX_IDLE_PAUSE_SECONDS,
} from "./settings.ts";
export {
  decideIdlePause,
  type IdlePauseDecision,
  type IdlePauseInput,
  pausedSlots,
} from "./idle_pause.ts";
export {
  addFigures,
  type DayUsage,
  emptyFigures,
  MAX_REPORT_DAYS,
  sessionFigures,
  usageByDay,
  type UsageFigures,
} from "./usage.ts";
