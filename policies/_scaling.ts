/**
 * Helpers shared by scale_in.ts and scale_out.ts (internal).
 *
 * @module
 */

import { clampSlots, type ResourceSlots, subtractSlots } from "./slots.ts";

/** What the helpers read of an agent (a `ScalableAgent`). */
interface AgentLoad {
  capacity: ResourceSlots;
  occupied: ResourceSlots;
  runningKernels: number;
  hostsProtectedSessions?: boolean;
}

/** Free room of an agent, never below 0. */
export function freeOf(a: Omit<AgentLoad, "runningKernels">): ResourceSlots {
  return clampSlots(subtractSlots(a.capacity, a.occupied));
}

/** Mean occupied fraction over the slots it has. */
export function loadOf(a: Omit<AgentLoad, "runningKernels">): number {
  let sum = 0, n = 0;
  for (const k in a.capacity) {
    if (a.capacity[k] > 0) {
      sum += (a.occupied[k] ?? 0) / a.capacity[k];
      n++;
    }
  }
  return n ? sum / n : 0;
}

/** Runs kernels, or hosts protected sessions. */
export function isBusy(a: AgentLoad): boolean {
  return a.runningKernels > 0 || !!a.hostsProtectedSessions;
}

/** Load that leaves with the agent (its sessions end and come back elsewhere). */
export function displacedBy(a: AgentLoad): ResourceSlots {
  return a.hostsProtectedSessions || a.runningKernels === 0
    ? {}
    : clampSlots(a.occupied);
}

/** `1 agent`, `2 agents`. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
