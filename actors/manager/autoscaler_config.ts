/**
 * A scaling group's autoscaler settings (`scaling_groups.autoscaler`, set
 * through `PUT /x/admin/scaling-groups/{name}/autoscaler`). Validated with
 * zod because it arrives over HTTP and comes back from the store.
 *
 * Two shapes cover the usual instance groups:
 * - **hot**: `minAgents > 0` and a `targetFreeCapacity`, so spare room is
 *   always warm and a new session starts without waiting for a node;
 * - **cold**: `minAgents: 0`, no target: nodes start only for pending
 *   sessions and go once idle.
 *
 * @module
 */

import { z } from "zod";

const Slots = z.record(z.string(), z.number().nonnegative());

export const ProtectionRulesSchema = z.object({
  /** Protect every batch session. */
  batchSessions: z.boolean().default(false),
  /** Protect sessions older than this many minutes (null: no age rule). */
  olderThanMinutes: z.number().nonnegative().nullable().default(null),
});

export const AutoscalerConfig = z.object({
  /** Off by default: a group without settings is never touched. */
  enabled: z.boolean().default(false),
  /** Fewest healthy, non-draining agents. */
  minAgents: z.number().int().min(0).default(0),
  /** Most agents (started by the driver or not). */
  maxAgents: z.number().int().min(0).default(10),
  /** Free capacity to keep across the group (hot groups). */
  targetFreeCapacity: Slots.default({}),
  /** Capacity of one new agent; empty: that of the group's largest agent. */
  agentCapacity: Slots.default({}),
  /** Extra args of agents the local driver starts (e.g. `["--cpu","1"]`). */
  agentArgs: z.array(z.string()).default([]),
  /** Started agents are named `${idPrefix}-${group}-${n}`. */
  idPrefix: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/).default("auto"),
  /** Time between decisions. */
  intervalMs: z.number().int().min(200).max(600_000).default(5000),
  /**
   * Seconds a scale-in drain waits for unprotected sessions before it stops
   * their agent anyway (null: wait for them to end). Protected sessions are
   * always waited for.
   */
  drainTimeoutSeconds: z.number().int().positive().nullable().default(null),
  /** Which sessions protect their agent from scale-in. */
  protection: ProtectionRulesSchema.default({
    batchSessions: false,
    olderThanMinutes: null,
  }),
}).strict();
export type AutoscalerConfig = z.infer<typeof AutoscalerConfig>;

/** Settings as stored, with defaults filled; junk in the store reads as "disabled". */
export function readAutoscalerConfig(raw: unknown): AutoscalerConfig {
  const parsed = AutoscalerConfig.safeParse(raw ?? {});
  return parsed.success ? parsed.data : AutoscalerConfig.parse({});
}
