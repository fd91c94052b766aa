/**
 * Agents for the scaling policies' tests (scale_in_test.ts,
 * scale_out_test.ts).
 *
 * @module
 */
import type { ScalableAgent } from "./scale_in.ts";

/** Bytes in a GiB. */
export const GiB = 1024 ** 3;

/** An 8-cpu agent using `usedCpu` cores (and twice that in mem units), one kernel when busy. */
export const agent = (
  id: string,
  usedCpu: number,
  extra: Partial<ScalableAgent> = {},
): ScalableAgent => ({
  id,
  capacity: { cpu: 8, mem: 32 },
  occupied: { cpu: usedCpu, mem: usedCpu * 2 },
  runningKernels: usedCpu > 0 ? 1 : 0,
  startedAt: 0,
  ...extra,
});

/** The agents: 1 cpu, 2 GiB; a session of cpu 1 fills one. */
export const small = (
  id: string,
  sessions: number,
  extra: Partial<ScalableAgent> = {},
): ScalableAgent =>
  agent(id, 0, {
    capacity: { cpu: 1, mem: 2 * GiB },
    occupied: sessions ? { cpu: 1, mem: GiB } : {},
    runningKernels: sessions,
    ...extra,
  });
