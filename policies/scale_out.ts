/**
 * Scale-out decisions for a scaling group: what to do for pending demand,
 * a target of free capacity ("hot" groups keep spare room warm) and the
 * group's minimum ("cold" groups have min 0 and no target: they grow only
 * for demand). Draining agents are undrained first; new agents start only
 * for what undraining cannot cover, up to `maxAgents`. The decision says
 * in words what it does and, for the pending queue, why sessions still
 * wait (e.g. `maxAgents` reached, not "no schedulable agent").
 *
 * @module
 */

import { fits, formatSlots, type ResourceSlots, sumSlots } from "./slots.ts";
import type { ScalableAgent, ScalingBounds } from "./scale_in.ts";
import { freeOf, loadOf, plural } from "./_scaling.ts";

/** Input of {@link decideScaleOut}. */
export interface ScaleOutInput extends ScalingBounds {
  /** Current agents of the group (draining ones included). */
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

/** A draining agent taken back into service. */
export interface UndrainAction {
  agentId: string;
  /** For the operator: why, in words. */
  detail: string;
}

/** Output of {@link decideScaleOut}. */
export interface ScaleOutDecision {
  /** Draining agents to undrain, before any new agent starts. */
  undrain: UndrainAction[];
  /** Agents to start (after undraining, and after the `maxAgents` cap). */
  add: number;
  /** New agents needed for pending sessions (before the cap). */
  forPending: number;
  /** New agents needed to restore the free-capacity target (before the cap). */
  forTargetFree: number;
  /** New agents needed to reach `minAgents` (before the cap). */
  forMinimum: number;
  /** Pending sessions a new agent could not host either. */
  unsatisfiable: number;
  /** Whether `maxAgents` cut the number down. */
  capped: boolean;
  /** The whole decision in words, for the operator's log. */
  detail: string;
  /**
   * Why the group's pending sessions still wait after this decision, for
   * the pending queue (e.g. `maxAgents` reached); undefined when this
   * decision gives them room or nothing waits.
   */
  pendingDetail?: string;
}

/** New agents a set of free rooms needs, before the cap. */
interface Need {
  forPending: number;
  forTargetFree: number;
  forMinimum: number;
  unsatisfiable: number;
}

function need(
  rooms: readonly ResourceSlots[],
  input: ScaleOutInput,
): Need {
  const min = input.minAgents ?? 0;
  const target = input.targetFreeCapacity ?? {};
  const tmpl = input.agentCapacity;
  const bins = rooms.map((r) => ({ ...r }));
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
  const forMinimum = Math.max(0, min - (current + forPending + forTargetFree));
  return { forPending, forTargetFree, forMinimum, unsatisfiable };
}

const total = (n: Need) => n.forPending + n.forTargetFree + n.forMinimum;

function why(n: Need): string {
  const parts: string[] = [];
  if (n.forPending) parts.push(`${n.forPending} for pending sessions`);
  if (n.forTargetFree) parts.push(`${n.forTargetFree} for the free target`);
  if (n.forMinimum) parts.push(`${n.forMinimum} for minAgents`);
  return parts.join(", ");
}

/**
 * What to do for demand. Pending sessions are first fitted (first-fit)
 * onto the free room of healthy, non-draining agents and of booting ones,
 * the rest onto new agents; then more agents are wanted until the free
 * capacity left meets the target (slots a new agent lacks cannot be helped
 * and are ignored); then the minimum is enforced. Draining agents (healthy,
 * not node-protected, not cordoned by an operator) are undrained first,
 * the roomiest first, each only if it lowers the number of agents wanted;
 * the rest is started, capped at `maxAgents` (draining agents count
 * toward it).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decideScaleOut } from "./scale_out.ts";
 * const d = decideScaleOut({
 *   agents: [{ id: "d", capacity: { cpu: 4 }, occupied: {}, runningKernels: 0, draining: true, startedAt: 0 }],
 *   pending: [{ cpu: 3 }, { cpu: 3 }, { cpu: 64 }],
 *   agentCapacity: { cpu: 4 },
 * });
 * assert.deepEqual(d.undrain.map((u) => u.agentId), ["d"]);
 * assert.ok(d.add === 1 && d.unsatisfiable === 1);
 * ```
 */
export function decideScaleOut(input: ScaleOutInput): ScaleOutDecision {
  const max = input.maxAgents ?? Infinity;
  const starting = input.starting ?? 0;
  const tmpl = input.agentCapacity;

  const rooms: ResourceSlots[] = input.agents
    .filter((a) => a.healthy !== false && !a.draining)
    .map(freeOf);
  for (let i = 0; i < starting; i++) rooms.push({ ...tmpl });

  let n = need(rooms, input);
  const undrain: UndrainAction[] = [];
  const drained = input.agents
    .filter((a) =>
      a.healthy !== false && a.draining && !a.protected && !a.cordoned
    )
    .map((a) => ({ a, load: loadOf(a) }))
    .sort((x, y) =>
      x.load - y.load || (x.a.id < y.a.id ? -1 : x.a.id > y.a.id ? 1 : 0)
    );
  for (const { a } of drained) {
    if (total(n) === 0) break;
    const tried = [...rooms, freeOf(a)];
    const m = need(tried, input);
    if (total(m) >= total(n)) continue;
    undrain.push({ agentId: a.id, detail: `undrained: ${why(n)}` });
    rooms.push(freeOf(a));
    n = m;
  }

  const wanted = total(n);
  const room = Math.max(0, max - input.agents.length - starting);
  const add = Math.min(wanted, room);
  const capped = add < wanted;
  const parts: string[] = [];
  if (undrain.length) {
    parts.push(`undrain ${undrain.map((u) => u.agentId).join(", ")}`);
  }
  if (add) parts.push(`start ${plural(add, "agent")} (${why(n)})`);
  if (capped) {
    parts.push(
      `maxAgents ${max} reached: ${plural(wanted - add, "more agent")} ` +
        `wanted (${why(n)})`,
    );
  }
  if (n.unsatisfiable) {
    parts.push(
      `${plural(n.unsatisfiable, "pending session")} larger than a new ` +
        `agent (${formatSlots(tmpl)})`,
    );
  }
  const pendingDetail = input.pending.length && capped && n.forPending > add
    ? `the scaling group is at maxAgents (${max}): waiting for room on ` +
      "its agents"
    : undefined;
  return {
    undrain,
    add,
    ...n,
    capped,
    detail: parts.length ? parts.join("; ") : "nothing to do",
    pendingDetail,
  };
}
