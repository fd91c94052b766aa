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
  /** Storage hosts whose folders this agent can mount (it sees their marker at their path). */
  storageHosts: z.array(z.string()).default([]),
});
export type AgentInfo = z.infer<typeof AgentInfo>;

/** Messages of the agent registry (`/user/agents` on the manager). */
export const RegistryMsg = z.discriminatedUnion("type", [
  z.object({ type: z.literal("agent.join"), info: AgentInfo }),
  z.object({ type: z.literal("agent.heartbeat"), info: AgentInfo }),
  z.object({
    type: z.literal("agent.leave"),
    id: z.string(),
    /** Why it leaves, in words (the registry's statusInfo). */
    reason: z.string().max(500).optional(),
  }),
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
    /** A `media` part that more parts of the same item follow. */
    more: z.boolean().optional(),
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

/** An agent re-adopted a kernel after a restart (or answers a session asking for it). */
export const KernelAdopted = z.object({
  type: z.literal("kernel.adopted"),
  kernelId: z.string(),
  agentId: z.string(),
  containerId: z.string().optional(),
});
export type KernelAdopted = z.infer<typeof KernelAdopted>;

const channelOf = { kernelId: z.string(), channelId: z.string() };

/**
 * Events of a byte channel (actors/protocol/agent.ts `channel.open`), told
 * to the owner named at open, in order:
 * - `channel.data`: bytes from inside the kernel, base64, at most 64 KiB
 *   decoded each; the owner sends `channel.credit` for what it has passed
 *   on, or the kernel stops sending once the open's `window` is used up;
 * - `channel.credit`: the kernel consumed `bytes` of the owner's input, so
 *   that much more may be written (the open's answer gives the first
 *   `window`);
 * - `channel.eof`: the inside closed its sending side (TCP half-close);
 * - `channel.closed`: the channel ended, exactly once, with why (and a
 *   terminal shell's exit code); nothing follows it.
 */
export const ChannelData = z.object({
  type: z.literal("channel.data"),
  ...channelOf,
  data: z.string(),
});
export const ChannelCredit = z.object({
  type: z.literal("channel.credit"),
  ...channelOf,
  bytes: z.number(),
});
export const ChannelEof = z.object({
  type: z.literal("channel.eof"),
  ...channelOf,
});
export const ChannelClosed = z.object({
  type: z.literal("channel.closed"),
  ...channelOf,
  reason: z.string(),
  exitCode: z.number().optional(),
});
/** Any event a channel's owner receives. */
export const ChannelEvent = z.discriminatedUnion("type", [
  ChannelData,
  ChannelCredit,
  ChannelEof,
  ChannelClosed,
]);
export type ChannelEvent = z.infer<typeof ChannelEvent>;
