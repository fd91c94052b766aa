/**
 * FIFO: one queue for the whole scaling group, oldest session first
 * (Backend.AI's default `fifo` scheduler).
 *
 * @module
 */

import { defineSchedulingPolicy, type SchedulingPolicy } from "./policy.ts";

/**
 * Oldest first, one strict queue per group.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fifo } from "./fifo.ts";
 * const s = (id: string, createdAt: number) => ({ id, accessKey: "AK", requestedSlots: {}, createdAt });
 * assert.ok(fifo.compare(s("old", 1), s("new", 2)) < 0);
 * ```
 */
export const fifo: SchedulingPolicy<"fifo"> = defineSchedulingPolicy({
  name: "fifo",
  description: "oldest first, one strict queue for the group",
  compare: (a, b) => a.createdAt - b.createdAt,
});
