/**
 * The port between the AgentActor and this machine's container engine:
 * launching, adopting, metering and destroying kernel containers. The
 * Docker implementation is docker_host.ts; the actor never sees Docker.
 *
 * @module
 */

import type { AgentImage } from "../protocol/agent.ts";
import type { KernelConnection } from "./kernel/connection.ts";

/** A kernel container with a live runner connection. */
export interface LaunchedKernel {
  kernelId: string;
  sessionId: string;
  containerId: string;
  image: string;
  slots: Record<string, number>;
  /** GPU device ids given to this kernel. */
  devices: string[];
  /** The session actor to report run events to. */
  owner: { node: string; path: string };
  conn: KernelConnection;
  /** Its container is frozen (`pause`); an adopted kernel may come back paused. */
  paused?: boolean;
}

export interface LaunchRequest {
  sessionId: string;
  kernelId: string;
  image: string;
  slots: Record<string, number>;
  environ: Record<string, string>;
  mounts: { hostPath: string; containerPath: string; readOnly: boolean }[];
  owner: { node: string; path: string };
  /** Limit of the kernel's work dir (scratch quota), bytes. @default {the agent's} */
  scratchBytes?: number;
}

/** How a kernel's container ended on its own, for the session's status info. */
export interface KernelEnd {
  /** Human-readable cause, e.g. the OOM kill. */
  reason: string;
  /** The container hit its memory limit and was killed. */
  oomKilled: boolean;
  /** Exit code of the container, null if it is still running or gone. */
  exitCode: number | null;
  /** Last usage figures (the cgroup is gone by now: the meter's totals). */
  stats: Record<string, number>;
}

export interface KernelHost {
  /** Slots this machine offers (cpu, mem, cuda.device ...). */
  capacity(): Record<string, number>;
  /** Kernel images present here. */
  images(): Promise<string[]>;
  /** The kernel images with their labels (admin listings). */
  imageDetails?(): Promise<AgentImage[]>;
  /** Compute plugins (e.g. `{ cuda: { devices: [...] } }`). */
  plugins(): Record<string, unknown>;
  launch(req: LaunchRequest): Promise<LaunchedKernel>;
  /** Containers of this agent still running from an earlier incarnation, re-attached. */
  adopt(): Promise<LaunchedKernel[]>;
  stats(kernel: LaunchedKernel): Promise<Record<string, number>>;
  destroy(kernel: LaunchedKernel): Promise<void>;
  /**
   * Called when the runner's stream ended without the agent asking: why
   * (OOM kill, exit code) and the final usage. `fallback` is the stream's
   * own reason, used when the container tells nothing better.
   */
  ended?(kernel: LaunchedKernel, fallback: string): Promise<KernelEnd>;
  /** Freezes the kernel's container (its memory stays, its processes stop); idempotent. */
  pause?(kernel: LaunchedKernel): Promise<void>;
  /** Thaws a frozen kernel container; idempotent. */
  resume?(kernel: LaunchedKernel): Promise<void>;
  /** The kernel container's own log (`backend.ai logs`); "" when it has none. */
  logs?(kernel: LaunchedKernel): Promise<string>;
  /** Begin keeping warm containers (called once adoption is done). */
  startPool?(): void;
  close(): Promise<void>;
}
