/**
 * Scale-in decisions for a scaling group, with scale-in protection as in
 * AWS Auto Scaling / cluster-autoscaler, built so that scale-in never
 * surprises (scale-out is in `scale_out.ts`):
 *
 * - {@link decideScaleIn}: which agents to drain and which to stop. Only
 *   real surplus goes: an agent is removed only if the agents that stay
 *   keep `minAgents` and still have `targetFreeCapacity` free **plus room
 *   for the load of every busy agent being removed** (its sessions must be
 *   able to come back somewhere), idle agents first. Above `maxAgents`
 *   agents go regardless of the target. A busy agent is drained (takes
 *   nothing new) and stopped once empty, or once it has drained longer
 *   than `drainDeadlineMs` (its unprotected sessions end: AWS
 *   lifecycle-hook timeout semantics). An agent hosting protected sessions
 *   (protection.ts: flagged, batch, or older than N minutes) is drained at
 *   most, never stopped by scale-in, whatever the deadline. An agent with
 *   node-level protection is never picked at all. An unhealthy agent is
 *   stopped, and an admin's forced stop overrides every protection.
 *
 * Every decision carries `detail` strings an operator can read (why an
 * agent goes, why it stays, why no agent starts).
 *
 * Room is counted in aggregate over the group (sums per slot), not packed
 * session by session: agents report occupied slots, not their sessions.
 *
 * @module
 */

import {
  addSlots,
  clampSlots,
  fits,
  formatSlots,
  type ResourceSlots,
  subtractSlots,
  sumSlots,
} from "./slots.ts";
import { displacedBy, freeOf, isBusy, loadOf, plural } from "./_scaling.ts";

/** The autoscaler's view of one agent. */
export interface ScalableAgent {
  /** Agent id. */
  id: string;
  /** Total capacity per slot. */
  capacity: ResourceSlots;
  /** Slots taken by its kernels. */
  occupied: ResourceSlots;
  /** Kernels running on it. */
  runningKernels: number;
  /**
   * Node-level scale-in protection: the autoscaler never drains, undrains
   * or stops it.
   * @default {false}
   */
  protected?: boolean;
  /**
   * Hosts at least one protected session (see `protection.ts`): may be
   * drained, never stopped by scale-in.
   * @default {false}
   */
  hostsProtectedSessions?: boolean;
  /**
   * Already draining.
   * @default {false}
   */
  draining?: boolean;
  /**
   * Drained by an operator, not by scale-in: the autoscaler never undrains
   * it (it still counts it as draining).
   * @default {false}
   */
  cordoned?: boolean;
  /** When it started draining (ms), for `drainDeadlineMs`. */
  drainingSince?: number;
  /**
   * Passing health checks.
   * @default {true}
   */
  healthy?: boolean;
  /** Start time (ms): older agents go first among equals. */
  startedAt: number;
}

/** Bounds and target of a scaling group. */
export interface ScalingBounds {
  /**
   * Fewest healthy, non-draining agents to keep.
   * @default {0}
   */
  minAgents?: number;
  /**
   * Most agents.
   * @default {Infinity}
   */
  maxAgents?: number;
  /**
   * Free capacity to keep available per slot, summed over healthy,
   * non-draining agents.
   * @default {{}}
   */
  targetFreeCapacity?: ResourceSlots;
}

/** Options of {@link decideScaleIn}. */
export interface ScaleInOptions extends ScalingBounds {
  /** Agents an admin asked to stop now, whatever they host. */
  forceStop?: Iterable<string>;
  /**
   * A draining agent that hosts no protected session is stopped after this
   * long even if busy (its sessions end). @default {Infinity}
   */
  drainDeadlineMs?: number;
  /** The current time (ms), for `drainDeadlineMs`. @default {Date.now()} */
  now?: number;
}

/** Why an agent is drained or stopped. */
export type ScaleInReason =
  | "admin-force"
  | "unhealthy"
  | "drained-empty"
  | "drain-deadline"
  | "surplus"
  | "over-max";

/** One agent to act on. */
export interface ScaleInAction {
  agentId: string;
  reason: ScaleInReason;
  /** For the operator: why, in words. */
  detail: string;
}

/** Why an agent stays as it is. */
export type KeepReason =
  | "node-protected"
  | "min-agents"
  | "target-free-capacity"
  | "hosts-protected-sessions"
  | "draining";

/** An agent scale-in leaves alone, and why. */
export interface KeptAgent {
  agentId: string;
  reason: KeepReason;
  /** For the operator: why, in words. */
  detail: string;
}

/** Output of {@link decideScaleIn}. */
export interface ScaleInDecision {
  /** Agents to mark draining: no new sessions, stop when empty. */
  drain: ScaleInAction[];
  /** Agents to stop now. */
  stop: ScaleInAction[];
  /** Every other agent, with the rule that keeps it. */
  kept: KeptAgent[];
}

/**
 * Picks agents to drain and to stop, and says why each other agent stays.
 * In order:
 *
 * 1. forced stops, then unhealthy agents: stopped;
 * 2. draining agents: stopped once empty, or past `drainDeadlineMs` when
 *    they host nothing protected; otherwise kept draining;
 * 3. healthy, non-draining agents without node-level protection, idle ones
 *    first (then those without protected sessions, least loaded, oldest,
 *    by id): while the group is above `maxAgents` each goes (`over-max`);
 *    otherwise one goes (`surplus`) only if the agents left stay at or
 *    above `minAgents` and their free capacity covers `targetFreeCapacity`
 *    plus the load of every busy agent removed now or draining already
 *    (protected sessions stay where they are and need no room). A removed
 *    agent is stopped if idle, otherwise drained.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decideScaleIn } from "./scale_in.ts";
 * const agent = (id: string, used: number) => ({
 *   id, capacity: { cpu: 4 }, occupied: { cpu: used }, runningKernels: used, startedAt: 0,
 * });
 * // a (idle) stops; c's 1 cpu fits in b's free room, so c drains; b stays.
 * const d = decideScaleIn([agent("a", 0), agent("b", 2), agent("c", 1)], { minAgents: 1 });
 * assert.deepEqual(d.stop.map((x) => x.agentId), ["a"]);
 * assert.deepEqual(d.drain.map((x) => x.agentId), ["c"]);
 * assert.deepEqual(d.kept.map((x) => `${x.agentId}:${x.reason}`), ["b:min-agents"]);
 * ```
 */
export function decideScaleIn(
  agents: readonly ScalableAgent[],
  options: ScaleInOptions = {},
): ScaleInDecision {
  const min = options.minAgents ?? 0;
  const max = options.maxAgents ?? Infinity;
  const target = options.targetFreeCapacity ?? {};
  const forced = new Set(options.forceStop ?? []);
  const deadline = options.drainDeadlineMs ?? Infinity;
  const now = options.now ?? Date.now();
  const out: ScaleInDecision = { drain: [], stop: [], kept: [] };
  const stop = (a: ScalableAgent, reason: ScaleInReason, detail: string) =>
    out.stop.push({ agentId: a.id, reason, detail });
  const keep = (a: ScalableAgent, reason: KeepReason, detail: string) =>
    out.kept.push({ agentId: a.id, reason, detail });

  const active: ScalableAgent[] = [];
  let displaced: ResourceSlots = {};
  for (const a of agents) {
    if (forced.has(a.id)) {
      stop(a, "admin-force", "stopped by an administrator");
    } else if (a.healthy === false) {
      stop(a, "unhealthy", "failing health checks");
    } else if (a.draining) {
      if (a.hostsProtectedSessions) {
        keep(
          a,
          "hosts-protected-sessions",
          "draining; hosts protected sessions, so scale-in waits for them " +
            "to end and never stops it",
        );
        continue;
      }
      const since = a.drainingSince ?? now;
      if (a.runningKernels === 0) {
        stop(a, "drained-empty", "drained and empty");
      } else if (!a.protected && now - since >= deadline) {
        stop(
          a,
          "drain-deadline",
          `drain deadline of ${deadline / 1000} s passed with ` +
            `${plural(a.runningKernels, "kernel")} left`,
        );
      } else {
        displaced = addSlots(displaced, displacedBy(a));
        keep(
          a,
          "draining",
          `draining: ${plural(a.runningKernels, "kernel")} left; ` +
            (Number.isFinite(deadline) && !a.protected
              ? `stopped at the drain deadline in ${
                Math.ceil((since + deadline - now) / 1000)
              } s`
              : "waits for them to end (no drain deadline)"),
        );
      }
    } else {
      active.push(a);
    }
  }

  let count = active.length;
  let free = sumSlots(active.map(freeOf));
  const candidates = active
    .map((a) => ({ a, load: loadOf(a), free: freeOf(a) }))
    .sort((x, y) =>
      Number(x.a.runningKernels > 0) - Number(y.a.runningKernels > 0) ||
      Number(!!x.a.hostsProtectedSessions) -
        Number(!!y.a.hostsProtectedSessions) ||
      x.load - y.load || x.a.startedAt - y.a.startedAt ||
      (x.a.id < y.a.id ? -1 : x.a.id > y.a.id ? 1 : 0)
    );
  for (const c of candidates) {
    const a = c.a;
    if (a.protected) {
      keep(a, "node-protected", "node-level scale-in protection");
      continue;
    }
    const freeAfter = subtractSlots(free, c.free);
    const displacedAfter = addSlots(displaced, displacedBy(a));
    let reason: ScaleInReason;
    let detail: string;
    if (count > max) {
      reason = "over-max";
      detail = `${plural(count, "agent")} is above maxAgents ${max}`;
    } else if (count - 1 < min) {
      keep(a, "min-agents", `keeps the group at minAgents ${min}`);
      continue;
    } else {
      const need = addSlots(target, displacedAfter);
      if (!fits(need, freeAfter)) {
        const wants = [
          Object.keys(target).length
            ? `the free target of ${formatSlots(target)}`
            : "",
          Object.keys(displacedAfter).length
            ? `room for ${
              formatSlots(displacedAfter)
            } of sessions on agents that would leave`
            : "",
        ].filter(Boolean).join(" plus ");
        keep(
          a,
          "target-free-capacity",
          `needed: without it the group would have ${
            formatSlots(clampSlots(freeAfter))
          } free, short of ${wants}`,
        );
        continue;
      }
      reason = "surplus";
      detail = Object.keys(target).length
        ? `surplus: the others keep ${formatSlots(target)} free` +
          (isBusy(a) ? " with room for its sessions" : "")
        : "surplus: no free-capacity target" +
          (isBusy(a) ? "; the others have room for its sessions" : "");
    }
    if (isBusy(a)) {
      out.drain.push({
        agentId: a.id,
        reason,
        detail: `${detail}; drained: ${plural(a.runningKernels, "kernel")} ` +
          "left",
      });
    } else {
      out.stop.push({ agentId: a.id, reason, detail: `${detail}; idle` });
    }
    count--;
    free = freeAfter;
    displaced = displacedAfter;
  }
  return out;
}
