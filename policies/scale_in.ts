/**
 * Autoscaling decisions for a scaling group, with scale-in protection as
 * in AWS Auto Scaling / cluster-autoscaler:
 *
 * - {@link decideScaleIn}: which agents to drain and which to stop. An
 *   agent that runs sessions is drained (takes nothing new) and stopped
 *   once empty, or once it has drained longer than `drainDeadlineMs` (its
 *   unprotected sessions end: AWS lifecycle-hook timeout semantics). An
 *   agent hosting protected sessions (protection.ts: flagged, batch, or
 *   older than N minutes) is drained but never stopped by scale-in, whatever
 *   the deadline. An agent with node-level protection is never picked at
 *   all. An unhealthy agent may be stopped, and an admin's forced stop
 *   overrides every protection.
 * - {@link decideScaleOut}: how many agents to add for pending demand, a
 *   target of free capacity ("hot" groups keep spare room warm) and the
 *   group's minimum ("cold" groups have min 0 and no target: they grow only
 *   for demand).
 *
 * @module
 */

import {
  clampSlots,
  fits,
  type ResourceSlots,
  subtractSlots,
  sumSlots,
} from "./slots.ts";

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
   * Node-level scale-in protection: the autoscaler never drains or stops it.
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
}

/** Output of {@link decideScaleIn}. */
export interface ScaleInDecision {
  /** Agents to mark draining: no new sessions, stop when empty. */
  drain: ScaleInAction[];
  /** Agents to stop now. */
  stop: ScaleInAction[];
}

function freeOf(a: ScalableAgent): ResourceSlots {
  return clampSlots(subtractSlots(a.capacity, a.occupied));
}

function loadOf(a: ScalableAgent): number {
  let sum = 0, n = 0;
  for (const k in a.capacity) {
    if (a.capacity[k] > 0) {
      sum += (a.occupied[k] ?? 0) / a.capacity[k];
      n++;
    }
  }
  return n ? sum / n : 0;
}

/**
 * Picks agents to drain and to stop. In order: forced stops; unhealthy
 * agents; draining agents that became empty or passed `drainDeadlineMs`
 * (and host nothing protected); then, among healthy, non-draining agents
 * without node-level protection (empty ones first, then those without
 * protected sessions, then least loaded, then oldest), removes agents while
 * the group stays at or above `minAgents` and keeps `targetFreeCapacity`
 * free, or while it is above `maxAgents` regardless of free capacity. A
 * removed agent is stopped if it is empty and hosts nothing protected,
 * otherwise drained.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decideScaleIn } from "./scale_in.ts";
 * const agent = (id: string, kernels: number) => ({
 *   id, capacity: { cpu: 4 }, occupied: { cpu: kernels }, runningKernels: kernels, startedAt: 0,
 * });
 * const d = decideScaleIn([agent("a", 0), agent("b", 2)], { minAgents: 0 });
 * assert.ok(d.stop[0].agentId === "a" && d.drain[0].agentId === "b");
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
  const out: ScaleInDecision = { drain: [], stop: [] };

  const active: ScalableAgent[] = [];
  for (const a of agents) {
    if (forced.has(a.id)) {
      out.stop.push({ agentId: a.id, reason: "admin-force" });
    } else if (a.healthy === false) {
      out.stop.push({ agentId: a.id, reason: "unhealthy" });
    } else if (a.draining) {
      if (a.hostsProtectedSessions) continue; // drained, never stopped
      if (a.runningKernels === 0) {
        out.stop.push({ agentId: a.id, reason: "drained-empty" });
      } else if (
        !a.protected && now - (a.drainingSince ?? now) >= deadline
      ) {
        out.stop.push({ agentId: a.id, reason: "drain-deadline" });
      }
    } else {
      active.push(a);
    }
  }

  let count = active.length;
  let free = sumSlots(active.map(freeOf));
  const candidates = active
    .filter((a) => !a.protected)
    .map((a) => ({ a, load: loadOf(a), free: freeOf(a) }))
    .sort((x, y) =>
      Number(x.a.runningKernels > 0) - Number(y.a.runningKernels > 0) ||
      Number(!!x.a.hostsProtectedSessions) -
        Number(!!y.a.hostsProtectedSessions) ||
      x.load - y.load || x.a.startedAt - y.a.startedAt ||
      (x.a.id < y.a.id ? -1 : x.a.id > y.a.id ? 1 : 0)
    );
  for (const c of candidates) {
    let reason: ScaleInReason;
    const after = subtractSlots(free, c.free);
    if (count > max) reason = "over-max";
    else if (count - 1 >= min && fits(target, after)) reason = "surplus";
    else continue;
    const busy = c.a.runningKernels > 0 || c.a.hostsProtectedSessions;
    (busy ? out.drain : out.stop).push({ agentId: c.a.id, reason });
    count--;
    free = after;
  }
  return out;
}

/** Input of {@link decideScaleOut}. */
export interface ScaleOutInput extends ScalingBounds {
  /** Current agents of the group. */
  agents: readonly ScalableAgent[];
  /** Requests of the sessions waiting for resources, in queue order. */
  pending: readonly ResourceSlots[];
  /** Capacity of one new agent (the group's instance type). */
  agentCapacity: ResourceSlots;
  /**
   * Agents already booting, not yet in `agents`.
   * @default {0}
   */
  starting?: number;
}

/** Output of {@link decideScaleOut}. */
export interface ScaleOutDecision {
  /** Agents to start (after the `maxAgents` cap). */
  add: number;
  /** Of which needed for pending sessions. */
  forPending: number;
  /** Of which needed to restore the free-capacity target. */
  forTargetFree: number;
  /** Of which needed to reach `minAgents`. */
  forMinimum: number;
  /** Pending sessions a new agent could not host either. */
  unsatisfiable: number;
  /** Whether `maxAgents` cut the number down. */
  capped: boolean;
}

/**
 * How many agents to add. Pending sessions are first fitted (first-fit)
 * onto the free room of healthy, non-draining agents and of booting ones,
 * the rest onto new agents; then more agents are added until the free
 * capacity left meets the target (slots a new agent lacks cannot be helped
 * and are ignored); then the minimum is enforced; finally the total is
 * capped at `maxAgents`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decideScaleOut } from "./scale_in.ts";
 * const d = decideScaleOut({
 *   agents: [],
 *   pending: [{ cpu: 3 }, { cpu: 3 }, { cpu: 64 }],
 *   agentCapacity: { cpu: 4 },
 * });
 * assert.ok(d.add === 2 && d.unsatisfiable === 1);
 * ```
 */
export function decideScaleOut(input: ScaleOutInput): ScaleOutDecision {
  const min = input.minAgents ?? 0;
  const max = input.maxAgents ?? Infinity;
  const target = input.targetFreeCapacity ?? {};
  const starting = input.starting ?? 0;
  const tmpl = input.agentCapacity;

  const bins: ResourceSlots[] = input.agents
    .filter((a) => a.healthy !== false && !a.draining)
    .map(freeOf);
  for (let i = 0; i < starting; i++) bins.push({ ...tmpl });
  const current = bins.length;

  let unsatisfiable = 0;
  for (const req of input.pending) {
    let bin = bins.find((b) => fits(req, b));
    if (!bin) {
      if (!fits(req, tmpl)) {
        unsatisfiable++;
        continue;
      }
      bins.push(bin = { ...tmpl });
    }
    for (const k in req) bin[k] = (bin[k] ?? 0) - req[k];
  }
  const forPending = bins.length - current;

  const free = sumSlots(bins);
  let forTargetFree = 0;
  for (const k in target) {
    const deficit = target[k] - (free[k] ?? 0);
    const per = tmpl[k] ?? 0;
    if (deficit > 0 && per > 0) {
      forTargetFree = Math.max(forTargetFree, Math.ceil(deficit / per));
    }
  }

  const have = input.agents.filter((a) => a.healthy !== false && !a.draining)
    .length + starting;
  let wanted = forPending + forTargetFree;
  const forMinimum = Math.max(0, min - (have + wanted));
  wanted += forMinimum;
  const room = Math.max(0, max - input.agents.length - starting);
  const add = Math.min(wanted, room);
  return {
    add,
    forPending,
    forTargetFree,
    forMinimum,
    unsatisfiable,
    capped: add < wanted,
  };
}
