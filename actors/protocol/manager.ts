/**
 * Messages the manager's actors receive from agent nodes, validated on
 * receipt (they cross a node boundary). What agents receive is in
 * `agent.ts` beside this file.
 *
 * @module
 */

import { z } from "zod";

export const Slots = z.record(z.string(), z.number());

/** What an agent reports of one kernel. */
export const KernelReport = z.object({
  kernelId: z.string(),
  sessionId: z.string(),
  containerId: z.string(),
  status: z.string(),
  stats: z.record(z.string(), z.number()).optional(),
});
export type KernelReport = z.infer<typeof KernelReport>;

/** An agent's identity and capacity, sent on join and with every heartbeat. */
export const AgentInfo = z.object({
  id: z.string().min(1).max(64),
  addr: z.string(),
  region: z.string().default("local"),
  scalingGroup: z.string().default("default"),
  architecture: z.string(),
  version: z.string(),
  resourceSlots: Slots,
  availableSlots: Slots,
  images: z.array(z.string()),
  computePlugins: z.record(z.string(), z.unknown()).default({}),
  draining: z.boolean().default(false),
  kernels: z.array(KernelReport).default([]),
});
export type AgentInfo = z.infer<typeof AgentInfo>;

/** Messages of the agent registry (`/user/agents` on the manager). */
export const RegistryMsg = z.discriminatedUnion("type", [
  z.object({ type: z.literal("agent.join"), info: AgentInfo }),
  z.object({ type: z.literal("agent.heartbeat"), info: AgentInfo }),
  z.object({ type: z.literal("agent.leave"), id: z.string() }),
]);
export type RegistryMsg = z.infer<typeof RegistryMsg>;

/** A kernel's run events, told to its session actor. */
export const RunEvent = z.object({
  type: z.literal("run.event"),
  kernelId: z.string(),
  runId: z.string(),
  ev: z.object({
    ev: z.string(),
    stream: z.string().optional(),
    data: z.string().optional(),
    mime: z.string().optional(),
    prompt: z.string().optional(),
    password: z.boolean().optional(),
    stage: z.string().optional(),
    status: z.string().optional(),
    exitCode: z.number().nullable().optional(),
  }).passthrough(),
});
export type RunEvent = z.infer<typeof RunEvent>;

/** A kernel ended on its own (runner died, OOM, container gone). */
export const KernelGone = z.object({
  type: z.literal("kernel.gone"),
  kernelId: z.string(),
  reason: z.string(),
  stats: z.record(z.string(), z.number()).optional(),
});
export type KernelGone = z.infer<typeof KernelGone>;
