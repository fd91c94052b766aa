/**
 * Messages an agent node's actors receive from the manager, validated on
 * receipt (they cross a node boundary).
 *
 * @module
 */

import { z } from "zod";

/** Slots of a session that asked for nothing, and of warm-pool containers. */
export const DEFAULT_KERNEL_SLOTS = { cpu: 1, mem: 1 << 30 } as const;

const Mount = z.object({
  hostPath: z.string(),
  containerPath: z.string(),
  readOnly: z.boolean().default(false),
});

/** Messages of the AgentActor (`/user/agent`). */
export const AgentMsg = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("kernel.create"),
    sessionId: z.string(),
    kernelId: z.string(),
    image: z.string(),
    slots: z.record(z.string(), z.number()),
    environ: z.record(z.string(), z.string()).default({}),
    mounts: z.array(Mount).default([]),
    bootstrapScript: z.string().optional(),
    /** The session actor, told about run events and the kernel's end. */
    owner: z.object({ $ref: z.object({ node: z.string(), path: z.string() }) })
      .or(z.any()),
  }),
  z.object({
    type: z.literal("kernel.destroy"),
    kernelId: z.string(),
    reason: z.string().default("user-requested"),
  }),
  z.object({ type: z.literal("kernel.list") }),
  z.object({ type: z.literal("agent.drain"), draining: z.boolean() }),
  z.object({
    type: z.literal("agent.forget-unknown"),
    knownKernels: z.array(z.string()),
  }),
]);
export type AgentMsg = z.infer<typeof AgentMsg>;

/** Messages of a KernelActor (`/user/agent/KERNEL_ID`). */
export const KernelMsg = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("exec"),
    runId: z.string(),
    mode: z.enum(["query", "batch"]),
    code: z.string(),
    opts: z.record(z.string(), z.unknown()).default({}),
  }),
  z.object({ type: z.literal("input"), runId: z.string(), text: z.string() }),
  z.object({ type: z.literal("interrupt"), runId: z.string().optional() }),
  z.object({
    type: z.literal("complete"),
    code: z.string(),
    opts: z.record(z.string(), z.unknown()).default({}),
  }),
  z.object({ type: z.literal("put"), path: z.string(), data: z.string() }),
  z.object({ type: z.literal("get"), path: z.string() }),
  z.object({ type: z.literal("list"), path: z.string() }),
  z.object({ type: z.literal("stats") }),
]);
export type KernelMsg = z.infer<typeof KernelMsg>;
