/**
 * Price tables: what one hour of each meter costs, per scaling group (hot
 * and cold instance groups may differ). One table prices a cpu core-hour, a
 * GiB-hour of memory and an hour of each device slot (`cuda.device`,
 * `cuda.shares`, ...); a slot the table leaves out is free. A paused
 * (SUSPENDED) session pays for its memory only (see `meter.ts`).
 *
 * {@link PriceTableSchema} is what the admin API validates a body with:
 * negative, non-finite and unknown fields are refused.
 *
 * @module
 */

import { z } from "zod";
import { isSizeSlot } from "../slots.ts";

/** Hourly prices of one scaling group, in the currency of the cost limits. */
export interface PriceTable {
  /** Price of one core for one hour. */
  cpuCoreHour: number;
  /** Price of one GiB of memory for one hour. */
  memGiBHour: number;
  /** Price of one unit of a device slot for one hour; missing = free. */
  deviceHour?: Record<string, number>;
}

/** Every meter free: the table of a group nobody priced. */
export const FREE_PRICES: Readonly<PriceTable> = Object.freeze({
  cpuCoreHour: 0,
  memGiBHour: 0,
  deviceHour: Object.freeze({}) as Record<string, number>,
});

/**
 * Whether a slot is metered as a device (unit·ms, priced per unit-hour):
 * every slot but `cpu` and the byte-sized ones (`mem`, `cuda.mem`, ...).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isDeviceSlot } from "./prices.ts";
 * assert.ok(isDeviceSlot("cuda.device") && isDeviceSlot("cuda.shares"));
 * assert.ok(!isDeviceSlot("cpu") && !isDeviceSlot("mem") && !isDeviceSlot("cuda.mem"));
 * ```
 */
export function isDeviceSlot(slot: string): boolean {
  return slot !== "cpu" && !isSizeSlot(slot);
}

const Price = z.number().nonnegative();
const DeviceSlot = z.string()
  .regex(/^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)+$/, {
    message: "a device slot name such as cuda.device",
  })
  .refine(isDeviceSlot, { message: "not a device slot (cpu and sizes are)" });

/**
 * A price table as the admin API accepts it: `{cpuCoreHour, memGiBHour,
 * deviceHour?: {slot: price}}`, every price finite and ≥ 0, no other keys.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PriceTableSchema } from "./prices.ts";
 * const ok = PriceTableSchema.parse({ cpuCoreHour: 0.04, memGiBHour: 0.005 });
 * assert.deepEqual(ok.deviceHour, {});
 * assert.ok(!PriceTableSchema.safeParse({ cpuCoreHour: -1, memGiBHour: 0 }).success);
 * assert.ok(!PriceTableSchema.safeParse({ cpuCoreHour: 1, memGiBHour: 0, gpu: 1 }).success);
 * ```
 */
export const PriceTableSchema: z.ZodType<
  Required<PriceTable>,
  PriceTable
> = z.strictObject({
  cpuCoreHour: Price,
  memGiBHour: Price,
  deviceHour: z.record(DeviceSlot, Price).default({}),
});

/**
 * Price tables per scaling group name: `{default: {...}, gpu: {...}}`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PriceTablesSchema } from "./prices.ts";
 * const t = PriceTablesSchema.parse({ hot: { cpuCoreHour: 1, memGiBHour: 0 } });
 * assert.ok(t.hot.cpuCoreHour === 1);
 * assert.ok(!PriceTablesSchema.safeParse({ "": { cpuCoreHour: 1, memGiBHour: 0 } }).success);
 * ```
 */
export const PriceTablesSchema: z.ZodType<
  Record<string, Required<PriceTable>>,
  Record<string, PriceTable>
> = z.record(z.string().min(1).max(64), PriceTableSchema);

/**
 * The table of `group`, or `fallback` (free by default) when the group has
 * none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pricesFor } from "./prices.ts";
 * const tables = { gpu: { cpuCoreHour: 1, memGiBHour: 0 } };
 * assert.ok(pricesFor(tables, "gpu").cpuCoreHour === 1);
 * assert.ok(pricesFor(tables, "cpu").cpuCoreHour === 0);
 * ```
 */
export function pricesFor(
  tables: Readonly<Record<string, PriceTable>>,
  group: string,
  fallback: PriceTable = FREE_PRICES,
): PriceTable {
  return Object.hasOwn(tables, group) ? tables[group] : fallback;
}
