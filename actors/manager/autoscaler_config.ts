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
  /**
   * Started agents are named `${idPrefix}-${group}-${n}`. Unset: derived
   * from this cluster's identity ({@link defaultIdPrefix}), so two clusters
   * on one Docker host never name (and adopt) each other's agents.
   */
  idPrefix: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/).optional(),
  /** Time between decisions. */
  intervalMs: z.number().int().min(200).max(600_000).default(5000),
  /**
   * Seconds a scale-in drain waits for unprotected sessions before it stops
   * their agent anyway (null: wait for them to end). Protected sessions are
   * always waited for.
   */
  drainTimeoutSeconds: z.number().int().positive().nullable().default(null),
  /**
   * When `drainTimeoutSeconds` last changed (ISO time). Set by the manager
   * ({@link stampDrainTimeout}); a value sent in a PUT is replaced. A drain
   * deadline counts from the later of this and the moment the agent began
   * draining, so lowering the timeout never stops an agent that drained
   * long ago at once: it gets the new timeout in full.
   */
  drainTimeoutSetAt: z.iso.datetime().nullable().default(null),
  /** Which sessions protect their agent from scale-in. */
  protection: ProtectionRulesSchema.default({
    batchSessions: false,
    olderThanMinutes: null,
  }),
}).strict().refine((c) => c.minAgents <= c.maxAgents, {
  message: "minAgents must not be above maxAgents",
  path: ["minAgents"],
});
export type AutoscalerConfig = z.infer<typeof AutoscalerConfig>;

/** Settings as stored, with defaults filled; junk in the store reads as "disabled". */
export function readAutoscalerConfig(raw: unknown): AutoscalerConfig {
  const parsed = AutoscalerConfig.safeParse(raw ?? {});
  return parsed.success ? parsed.data : AutoscalerConfig.parse({});
}

/**
 * The settings to store for a PUT: `next` with `drainTimeoutSetAt` kept from
 * `prev` when the timeout did not change, else stamped `now` (null when the
 * timeout is removed).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AutoscalerConfig, stampDrainTimeout } from "./autoscaler_config.ts";
 * const prev = AutoscalerConfig.parse({ drainTimeoutSeconds: 60, drainTimeoutSetAt: "2026-01-01T00:00:00.000Z" });
 * const same = stampDrainTimeout(prev, AutoscalerConfig.parse({ drainTimeoutSeconds: 60, minAgents: 2 }), 0);
 * assert.equal(same.drainTimeoutSetAt, "2026-01-01T00:00:00.000Z");
 * const lower = stampDrainTimeout(prev, AutoscalerConfig.parse({ drainTimeoutSeconds: 10 }), Date.UTC(2026, 1, 1));
 * assert.equal(lower.drainTimeoutSetAt, "2026-02-01T00:00:00.000Z");
 * ```
 */
export function stampDrainTimeout(
  prev: AutoscalerConfig,
  next: AutoscalerConfig,
  now: number,
): AutoscalerConfig {
  const drainTimeoutSetAt = next.drainTimeoutSeconds === null
    ? null
    : prev.drainTimeoutSeconds === next.drainTimeoutSeconds
    ? prev.drainTimeoutSetAt
    : new Date(now).toISOString();
  return { ...next, drainTimeoutSetAt };
}

/**
 * When a drain's deadline starts counting: the later of when the agent
 * began draining and when the group's `drainTimeoutSeconds` was set.
 */
export function drainClockStart(
  drainingSince: number,
  config: Pick<AutoscalerConfig, "drainTimeoutSetAt">,
): number {
  const setAt = config.drainTimeoutSetAt
    ? Date.parse(config.drainTimeoutSetAt)
    : 0;
  return Math.max(drainingSince, Number.isFinite(setAt) ? setAt : 0);
}

/**
 * The default `idPrefix` of a cluster: `a` and 6 hex digits of a hash of
 * the cluster secret and the manager's data dir. Two clusters on one Docker
 * host differ in both, so their agents (and the containers they adopt by
 * agent id) never collide; one cluster keeps its prefix across restarts.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultIdPrefix } from "./autoscaler_config.ts";
 * const a = await defaultIdPrefix("secret-1", "/srv/a");
 * assert.match(a, /^a[0-9a-f]{6}$/);
 * assert.equal(a, await defaultIdPrefix("secret-1", "/srv/a"));
 * assert.notEqual(a, await defaultIdPrefix("secret-1", "/srv/b"));
 * ```
 */
export async function defaultIdPrefix(
  clusterSecret: string,
  dataDir: string,
): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(`bai-autoscaler\0${clusterSecret}\0${dataDir}`),
  );
  return `a${new Uint8Array(digest).slice(0, 3).toHex()}`;
}
