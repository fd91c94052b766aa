/**
 * LIFO: one queue for the whole scaling group, newest session first
 * (Backend.AI's `lifo` scheduler: interactive users who just asked get
 * served before an old backlog).
 *
 * @module
 */

import { defineSchedulingPolicy, type SchedulingPolicy } from "./policy.ts";

/**
 * Newest first, one strict queue per group.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lifo } from "./lifo.ts";
 * const s = (id: string, createdAt: number) => ({ id, accessKey: "AK", requestedSlots: {}, createdAt });
 * assert.ok(lifo.compare(s("old", 1), s("new", 2)) > 0);
 * ```
 */
export const lifo: SchedulingPolicy<"lifo"> = defineSchedulingPolicy({
  name: "lifo",
  description: "newest first, one strict queue for the group",
  compare: (a, b) => b.createdAt - a.createdAt,
});
