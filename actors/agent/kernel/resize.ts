/**
 * Setting a running kernel container's limits to a session's slots (a warm
 * pool container taken for a session of another size).
 *
 * The Engine API's `POST /containers/{id}/update` does it, but it costs
 * 15–30 ms here (dockerd → containerd → a `runc update` process), more than
 * the rest of a warm start. With the cgroupfs driver (cgroup v1, this
 * engine) the agent, as root, writes the same cgroup files runc would
 * (microseconds) before the kernel is handed out, and the Engine update
 * follows in the background so `docker inspect` and any later engine
 * action agree. Where the cgroup files are not writable (another driver,
 * cgroup v2, not root), the Engine update is awaited instead.
 *
 * @module
 */

import type { DockerClient } from "../docker/client.ts";
import { CPU_PERIOD_US, type KernelSlots } from "./spec.ts";
import { containerCgroupDir } from "../metering/cgroup.ts";

/** The limits a kernel container runs with. */
export interface KernelLimits {
  cpu: number;
  mem: number;
  pids: number;
}

/** `POST /containers/{id}/update` body for `limits` (memory without swap). */
export function updateBody(limits: KernelLimits): Record<string, unknown> {
  const mem = Math.floor(limits.mem);
  return {
    Memory: mem,
    MemorySwap: mem,
    NanoCpus: Math.round(limits.cpu * 1e9),
    PidsLimit: limits.pids,
  };
}

/**
 * The cgroup v1 writes that set `to` on a container now at `from`, in an
 * order the kernel accepts: `memory.memsw.limit_in_bytes` may never be
 * below `memory.limit_in_bytes`, so growing writes memsw first, shrinking
 * writes it last.
 */
export function cgroupWrites(
  dir: (controller: string) => string,
  from: Pick<KernelLimits, "mem">,
  to: KernelLimits,
): { path: string; value: string }[] {
  const mem = String(Math.floor(to.mem));
  const memory = [
    { path: `${dir("memory")}/memory.limit_in_bytes`, value: mem },
    { path: `${dir("memory")}/memory.memsw.limit_in_bytes`, value: mem },
  ];
  if (to.mem > from.mem) memory.reverse();
  return [
    ...memory,
    {
      path: `${dir("cpu")}/cpu.cfs_period_us`,
      value: String(CPU_PERIOD_US),
    },
    {
      path: `${dir("cpu")}/cpu.cfs_quota_us`,
      value: String(Math.round(to.cpu * CPU_PERIOD_US)),
    },
    { path: `${dir("pids")}/pids.max`, value: String(to.pids) },
  ];
}

/** Options of {@linkcode resizeKernel}. */
export interface ResizeOptions {
  /** cgroup v1 root. @default {"/sys/fs/cgroup"} */
  cgroupRoot?: string;
  /** Told when the background Engine update fails (the cgroup is set already). */
  onEngineError?: (error: unknown) => void;
}

/**
 * Sets a running container's limits from `from` to `to`. Resolves once the
 * limits are in force; throws when they could not be set (the container
 * must then not be handed out: a memory limit below what it uses, say).
 */
export async function resizeKernel(
  docker: DockerClient,
  containerId: string,
  from: KernelLimits,
  to: KernelLimits,
  options: ResizeOptions = {},
): Promise<void> {
  const root = options.cgroupRoot ?? "/sys/fs/cgroup";
  const dir = (c: string) => containerCgroupDir(containerId, c, root);
  // The last resize's engine update must not land after this one (a reused
  // pool container): one not sent yet is dropped (this one's follows), one
  // under way is waited for.
  const prior = pendingUpdates.get(containerId);
  if (prior) {
    pendingUpdates.delete(containerId);
    const sent = prior.sent();
    if (sent) await sent;
    else clearTimeout(prior.timer);
  }
  let direct = true;
  try {
    // Synchronous on purpose: cgroupfs lives in memory, a write is ~10 µs,
    // while each async write waits for a blocking-pool thread (0.1-0.7 ms
    // here under load).
    for (const w of cgroupWrites(dir, from, to)) {
      Deno.writeTextFileSync(w.path, w.value);
    }
  } catch (e) {
    if (
      !(e instanceof Deno.errors.NotFound ||
        e instanceof Deno.errors.PermissionDenied ||
        (e as { code?: string }).code === "EROFS")
    ) throw e;
    direct = false; // not cgroupfs v1 here, or not root: the engine does it
  }
  if (!direct) return await docker.updateContainer(containerId, updateBody(to));
  // The limits are in force: the engine's record follows a little later,
  // off the path of the session's start (its first query comes next).
  let sent: Promise<void> | null = null;
  const update: PendingUpdate = {
    timer: setTimeout(() => {
      sent = docker.updateContainer(containerId, updateBody(to)).catch((e) =>
        options.onEngineError?.(e)
      ).finally(() => {
        if (pendingUpdates.get(containerId) === update) {
          pendingUpdates.delete(containerId);
        }
      });
    }, ENGINE_UPDATE_DELAY_MS),
    sent: () => sent,
  };
  pendingUpdates.set(containerId, update);
}

interface PendingUpdate {
  timer: ReturnType<typeof setTimeout>;
  sent(): Promise<void> | null;
}

/** Background engine updates by container (at most one: the latest resize). */
const pendingUpdates = new Map<string, PendingUpdate>();

/** How long the engine's own update waits after a direct cgroup write. */
const ENGINE_UPDATE_DELAY_MS = 200;

/** The limits `slots` ask for, with the spec's pids limit. */
export function limitsOf(slots: KernelSlots, pids: number): KernelLimits {
  return { cpu: slots.cpu, mem: slots.mem, pids };
}
