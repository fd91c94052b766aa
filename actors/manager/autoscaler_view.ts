/**
 * What a group's autoscaler (autoscaler.ts) reads, turned into the pure
 * policies' input: the registry's agent views and the live sessions become
 * `ScalableAgent`s (policies/scale_in.ts), and the decisions of one tick
 * become the per-agent notes the registry shows (`scaleIn` of
 * `GET /x/admin/agents/{id}`).
 *
 * @module
 */

import type {
  ScalableAgent,
  ScaleInDecision,
} from "../../policies/scale_in.ts";
import type { ScaleOutDecision } from "../../policies/scale_out.ts";
import { hostsProtectedSession } from "../../policies/protection.ts";
import { type AutoscalerConfig, drainClockStart } from "./autoscaler_config.ts";
import type { DrainState, ScaleInNote } from "./agent_status.ts";

/** A live session as the autoscaler needs it. */
export interface ScalingSession {
  agentId: string | null;
  scalingGroup: string;
  status: string;
  type: string;
  createdAt: number;
  protected: boolean;
  requestedSlots: Record<string, number>;
}

/** An agent as the registry lists it (agents.ts `view`). */
export interface RegistryAgentView {
  id: string;
  scalingGroup: string;
  status: string;
  schedulable: boolean;
  /** The drain in force (`since` as ISO time), or null. */
  drain?: { by: DrainState["by"]; reason: string; since: string } | null;
  resourceSlots: Record<string, number>;
  numKernels: number;
  lastSeen: string;
}

/** Input of {@link scalableAgents}. */
export interface ViewInput {
  group: string;
  views: readonly RegistryAgentView[];
  sessions: readonly ScalingSession[];
  config: AutoscalerConfig;
  now: number;
  /** Whether the driver started (and may stop) the agent. */
  owns(id: string): boolean;
  /** Agents counted elsewhere (booting, being stopped). */
  skip(id: string): boolean;
}

/**
 * The group's agents as the policies see them. An agent the driver did not
 * start has node-level protection (the autoscaler never acts on it) and
 * counts only while ALIVE; an agent that left (TERMINATED) is gone; one the
 * driver started that is LOST is unhealthy. A drain counts as the
 * autoscaler's own (undrainable) only when scale-in made it; its deadline
 * clock starts at the later of the drain's start and when
 * `drainTimeoutSeconds` was set.
 */
export function scalableAgents(input: ViewInput): ScalableAgent[] {
  const { config, now } = input;
  const byAgent = new Map<string, ScalingSession[]>();
  for (const s of input.sessions) {
    if (!s.agentId || s.scalingGroup !== input.group) continue;
    const list = byAgent.get(s.agentId) ?? [];
    list.push(s);
    byAgent.set(s.agentId, list);
  }
  const agents: ScalableAgent[] = [];
  for (const v of input.views) {
    if (v.scalingGroup !== input.group || input.skip(v.id)) continue;
    if (v.status === "TERMINATED") continue;
    const owned = input.owns(v.id);
    if (!owned && v.status !== "ALIVE") continue;
    const on = byAgent.get(v.id) ?? [];
    const occupied: Record<string, number> = {};
    for (const s of on) {
      for (const [k, n] of Object.entries(s.requestedSlots)) {
        occupied[k] = (occupied[k] ?? 0) + n;
      }
    }
    // A view without `drain` says only `schedulable`: a drain of unknown origin is a cordon.
    const drain = v.drain !== undefined
      ? v.drain
      : v.schedulable
      ? null
      : undefined;
    const draining = drain !== null;
    const since = drain ? Date.parse(drain.since) : NaN;
    agents.push({
      id: v.id,
      capacity: v.resourceSlots,
      occupied,
      runningKernels: Math.max(v.numKernels, on.length),
      protected: !owned,
      hostsProtectedSessions: hostsProtectedSession(
        on.map((s) => ({
          type: s.type,
          createdAt: s.createdAt,
          config: { scale_in_protected: s.protected },
        })),
        config.protection,
        now,
      ),
      draining,
      cordoned: draining && drain?.by !== "scale-in",
      drainingSince: draining
        ? drainClockStart(Number.isFinite(since) ? since : now, config)
        : undefined,
      healthy: v.status === "ALIVE",
      startedAt: Date.parse(v.lastSeen) || 0,
    });
  }
  return agents;
}

/**
 * One note per agent of the group for the registry: what this tick did to
 * it and why, or why it stays. While the group grows (`scaledOut`) there is
 * no scale-in, and the notes say so.
 */
export function notesOf(
  agents: readonly ScalableAgent[],
  out: ScaleOutDecision,
  decision: ScaleInDecision,
  scaledOut: boolean,
  now: number,
): ScaleInNote[] {
  const at = new Date(now).toISOString();
  const notes = new Map<string, ScaleInNote>();
  const note = (
    agentId: string,
    action: ScaleInNote["action"],
    reason: string,
    detail: string,
  ) => notes.set(agentId, { agentId, action, reason, detail, at });
  for (const k of decision.kept) note(k.agentId, "keep", k.reason, k.detail);
  for (const d of decision.drain) note(d.agentId, "drain", d.reason, d.detail);
  for (const s of decision.stop) note(s.agentId, "stop", s.reason, s.detail);
  for (const u of out.undrain) note(u.agentId, "undrain", "demand", u.detail);
  for (const a of agents) {
    if (notes.has(a.id)) continue;
    note(
      a.id,
      "keep",
      scaledOut ? "scaling-out" : "unchanged",
      scaledOut
        ? `no scale-in while the group grows or sessions wait (${out.detail})`
        : "no scale-in decision this tick",
    );
  }
  return [...notes.values()];
}
