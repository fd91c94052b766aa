/**
 * Messages an agent node's actors receive from the manager, validated on
 * receipt (they cross a node boundary).
 *
 * @module
 */

import { z } from "zod";

/**
 * Where an agent node's actors live: the root supervisor (`/user/node`,
 * actors/agent/root.ts), the AgentActor below it, a KernelActor per kernel
 * below that. The manager addresses them by these paths.
 */
export const AGENT_PATHS = {
  agent: "/user/node/agent",
  kernel: (kernelId: string) => `/user/node/agent/${kernelId}`,
} as const;

/** Slots of a session that asked for nothing, and of warm-pool containers. */
export const DEFAULT_KERNEL_SLOTS = { cpu: 1, mem: 1 << 30 } as const;

const Mount = z.object({
  hostPath: z.string(),
  containerPath: z.string(),
  readOnly: z.boolean().default(false),
});

/** Messages of the AgentActor (`AGENT_PATHS.agent`, `/user/node/agent`). */
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
    /** Cap on the kernel's work dir (its policy's max_scratch_size); none: the agent's default. */
    scratchBytes: z.number().int().positive().optional(),
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
  /**
   * Freezes a kernel's container (Docker pause: its processes stop, its
   * memory stays) and gives back its slots other than memory; answers
   * `{ paused: true }`. Pausing a paused kernel is fine.
   */
  z.object({ type: z.literal("kernel.pause"), kernelId: z.string() }),
  /**
   * Thaws a paused kernel (Docker unpause) once its slots fit this agent
   * again; answers `{ paused: false }`, or fails when there is no room.
   */
  z.object({ type: z.literal("kernel.resume"), kernelId: z.string() }),
  /** The kernel images in this agent's engine; answers {@link AgentImage}[]. */
  z.object({ type: z.literal("images.list") }),
  /** The kernel container's log; answers `{ logs: string }`. */
  z.object({ type: z.literal("kernel.logs"), kernelId: z.string() }),
  z.object({ type: z.literal("agent.drain"), draining: z.boolean() }),
  z.object({
    type: z.literal("agent.forget-unknown"),
    knownKernels: z.array(z.string()),
  }),
]);
export type AgentMsg = z.infer<typeof AgentMsg>;

/** Bytes of a file per `put`/`get` range a caller should send or ask for. */
export const FILE_CHUNK_BYTES = 1 << 20;
/**
 * Largest `length` of one ranged `get`: its base64 answer must fit a 4 MiB
 * cluster frame.
 */
export const MAX_FILE_RANGE_BYTES = 2 << 20;
/** Most raw bytes one `channel.write` may carry (base64 in `data`). */
export const MAX_CHANNEL_WRITE_BYTES = 256 * 1024;

/** A channel id, chosen by the opener, unique within its kernel. */
export const ChannelId = z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/);

/**
 * Byte channels into a kernel (images/PROTOCOL.md "Channels"): terminals,
 * TCP streams to the container's loopback, service-port apps. The opener
 * names an `owner` ref; the kernel tells it the channel's events
 * (`channel.data`, `channel.credit`, `channel.eof`, `channel.closed`, in
 * manager.ts) until `channel.closed`, which always comes exactly once.
 */
const ChannelMsgs = [
  z.object({
    type: z.literal("channel.open"),
    channelId: ChannelId,
    kind: z.enum(["pty", "tcp", "app"]),
    /** Told the channel's events (an ActorRef, like kernel.create's owner). */
    owner: z.object({ $ref: z.object({ node: z.string(), path: z.string() }) })
      .or(z.any()),
    /** pty: terminal size. @default 24 x 80 */
    rows: z.number().int().min(1).max(1000).optional(),
    cols: z.number().int().min(1).max(1000).optional(),
    /** pty: extra environment of the shell. */
    env: z.record(z.string(), z.string()).optional(),
    /** tcp: the port on 127.0.0.1 inside the container. */
    port: z.number().int().min(1).max(65535).optional(),
    /** app: the service-port name (`jupyter`). */
    app: z.string().regex(/^[\w-]{1,64}$/).optional(),
    /** app: URL prefix the proxy serves the app under, e.g. `/x/apps/S/jupyter/`. */
    baseUrl: z.string().regex(/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/).max(512)
      .optional(),
    /** app: token the app should require (default none: the proxy authorises). */
    token: z.string().regex(/^[A-Za-z0-9._~-]{0,256}$/).optional(),
    /** Output credit: bytes the kernel may send before the owner's `channel.credit`. @default 262144 */
    window: z.number().int().min(1).max(16 << 20).optional(),
  }),
  /** Input bytes, base64; at most the credit the owner holds (the open's `window`, then `channel.credit` events). */
  z.object({
    type: z.literal("channel.write"),
    channelId: ChannelId,
    data: z.string().max(Math.ceil(MAX_CHANNEL_WRITE_BYTES / 3) * 4),
  }),
  /** The owner forwarded `bytes` of output: the kernel may send that much more. */
  z.object({
    type: z.literal("channel.credit"),
    channelId: ChannelId,
    bytes: z.number().int().min(1).max(16 << 20),
  }),
  /** No more input (TCP half-close). */
  z.object({ type: z.literal("channel.eof"), channelId: ChannelId }),
  z.object({
    type: z.literal("channel.resize"),
    channelId: ChannelId,
    rows: z.number().int().min(1).max(1000),
    cols: z.number().int().min(1).max(1000),
  }),
  /** Ends the channel (a terminal's shell is hung up); `channel.closed` follows. */
  z.object({ type: z.literal("channel.close"), channelId: ChannelId }),
  /** The open channels: `[{ channelId, kind }]`. */
  z.object({ type: z.literal("channel.list") }),
  /** The image's service ports: `{ items: [{ name, protocol, ports, running, baseUrl }] }`. */
  z.object({ type: z.literal("apps") }),
] as const;

/** Messages of a KernelActor (`AGENT_PATHS.kernel(id)`, `/user/node/agent/KERNEL_ID`). */
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
  /**
   * Writes `data` (base64) at `offset` of a file; without an offset (or 0)
   * the file is created or truncated first. A large upload is a series of
   * puts of at most FILE_CHUNK_BYTES each, offsets increasing.
   */
  z.object({
    type: z.literal("put"),
    path: z.string(),
    data: z.string(),
    offset: z.number().int().min(0).optional(),
    mode: z.union([z.number().int(), z.string().regex(/^[0-7]{3,4}$/)])
      .optional(),
  }),
  /**
   * Reads a file: whole (answer `{ data }`), or with `offset`/`length` one
   * range of it (answer `{ data, offset, size, eof }`), the way to read a
   * large file without one large message.
   */
  z.object({
    type: z.literal("get"),
    path: z.string(),
    offset: z.number().int().min(0).optional(),
    length: z.number().int().min(0).max(MAX_FILE_RANGE_BYTES).optional(),
  }),
  ...ChannelMsgs,
  z.object({ type: z.literal("list"), path: z.string() }),
  z.object({ type: z.literal("stats") }),
]);
export type KernelMsg = z.infer<typeof KernelMsg>;

/** A kernel image as an agent reports it (from its engine's labels). */
export interface AgentImage {
  ref: string;
  id: string;
  sizeBytes: number;
  /** Seconds since the epoch. */
  created: number;
  labels: Record<string, string>;
}
