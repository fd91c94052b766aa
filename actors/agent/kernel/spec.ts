/**
 * Pure builder of the Engine API `POST /containers/create` body for a
 * kernel. Hardened by default: no network, no capabilities, no new
 * privileges, the engine's default seccomp profile (never `unconfined`),
 * a pids limit, read-only root with only /home/work (the kernel's own host
 * dir) and a small /tmp tmpfs writable, memory without swap, a cpu quota,
 * uid 1000, the runner's own init as PID 1, stdio attached without a TTY (the runner
 * protocol rides on stdin/stdout).
 *
 * No host path enters the container except the kernel's work dir and the
 * vfolder mounts the caller passes; the function rejects mounts that try to
 * shadow /home/work itself or system dirs.
 */

import { KERNEL_WORK_DIR, SYSTEM_DIRS } from "../../../policies/vfolder.ts";
import { LANE_MOUNT, LANE_SOCKET } from "./lane.ts";

/** Label keys the agent sets and filters on. */
export const LABELS = {
  sessionId: "ai.backend.session-id",
  kernelId: "ai.backend.kernel-id",
  agentId: "ai.backend.agent-id",
  owner: "ai.backend.owner",
  /** Set on warm-pool containers (value: the pool key). */
  pool: "ai.backend.pool",
} as const;

/** Resource slots of one kernel, in the platform's words. */
export interface KernelSlots {
  /** CPU cores (fractions allowed). */
  cpu: number;
  /** Memory in bytes (also the swap cap: no swap). */
  mem: number;
  /** Whole GPUs. @default 0 */
  "cuda.device"?: number;
}

/** A host directory made visible to the kernel (a vfolder). */
export interface KernelMount {
  hostPath: string;
  containerPath: string;
  readOnly?: boolean;
}

/** Everything {@linkcode buildContainerSpec} needs. */
export interface KernelSpecInput {
  image: string;
  /** Null for warm-pool containers (identity recorded at take time). */
  kernelId: string | null;
  sessionId: string | null;
  agentId: string;
  /** Access key or user owning the session. */
  owner?: string;
  slots: KernelSlots;
  /** GPU ids (index or UUID) allocated to this kernel; length = cuda.device. */
  gpuIds?: string[];
  /** Host dir bind-mounted read-write at /home/work. */
  workDir: string;
  mounts?: KernelMount[];
  environ?: Record<string, string>;
  /** Extra labels (e.g. the pool label). */
  labels?: Record<string, string>;
  /** @default 256 */
  pidsLimit?: number;
  /** @default "size=64m" */
  tmpSize?: string;
  /** Runner command; @default the image's CMD. */
  cmd?: string[];
  /** Inline seccomp JSON; @default the engine's default profile. */
  seccompProfile?: string;
  /**
   * Host dir of the runner protocol's socket (lane.ts), mounted read-only
   * at /run/bai and named to the runner in `BAI_LANE`; without it the
   * protocol runs on the attached stdio.
   */
  laneDir?: string;
}

/** A mount or slot value the hardened spec refuses. */
export class KernelSpecError extends Error {
  override name = "KernelSpecError";
}

/**
 * Where no mount may go: the root, the work dir itself, and the kernel's
 * own dirs (and below them) the manager refuses too (policies/vfolder.ts).
 */
const FORBIDDEN_TARGETS = ["/", KERNEL_WORK_DIR, ...SYSTEM_DIRS];

/** The in-container work dir every kernel gets. */
export const WORK_DIR = KERNEL_WORK_DIR;

/** Processes a kernel may run at once unless its spec says otherwise. */
export const DEFAULT_PIDS_LIMIT = 256;

/**
 * The CFS period the engine pairs with `NanoCpus` (100 ms): a kernel of
 * `cpu` cores gets a quota of `cpu * CPU_PERIOD_US` per period.
 */
export const CPU_PERIOD_US = 100_000;

/** Builds the create body. Pure: same input, same output. */
export function buildContainerSpec(
  input: KernelSpecInput,
): Record<string, unknown> {
  const { slots } = input;
  if (!(slots.cpu > 0)) {
    throw new KernelSpecError(`cpu slots must be > 0, got ${slots.cpu}`);
  }
  if (!(slots.mem >= 6 * 1024 * 1024)) {
    throw new KernelSpecError(`mem slots must be >= 6 MiB, got ${slots.mem}`);
  }
  const gpuCount = slots["cuda.device"] ?? 0;
  const gpuIds = input.gpuIds ?? [];
  if (gpuIds.length !== gpuCount) {
    throw new KernelSpecError(
      `cuda.device=${gpuCount} but ${gpuIds.length} GPU ids allocated`,
    );
  }
  const binds = [`${input.workDir}:${WORK_DIR}:rw`];
  if (input.laneDir) binds.push(`${input.laneDir}:${LANE_MOUNT}:ro`);
  for (const m of input.mounts ?? []) {
    const target = m.containerPath.replace(/\/+$/, "") || "/";
    if (
      !target.startsWith("/") || target.includes("..") ||
      target.includes(":") || m.hostPath.includes(":")
    ) {
      throw new KernelSpecError(
        `bad mount ${m.hostPath} -> ${m.containerPath}`,
      );
    }
    if (
      FORBIDDEN_TARGETS.some((f) =>
        target === f ||
        (f !== "/" && f !== WORK_DIR && target.startsWith(f + "/"))
      )
    ) {
      throw new KernelSpecError(`mount target ${target} is reserved`);
    }
    binds.push(`${m.hostPath}:${target}:${m.readOnly ? "ro" : "rw"}`);
  }
  const env: Record<string, string> = {
    HOME: WORK_DIR,
    USER: "work",
    LANG: "C.UTF-8",
    ...input.environ,
  };
  if (gpuCount > 0) env.CUDA_VISIBLE_DEVICES = gpuIds.join(",");
  if (input.laneDir) env.BAI_LANE = `${LANE_MOUNT}/${LANE_SOCKET}`;
  const labels: Record<string, string> = {
    [LABELS.agentId]: input.agentId,
    ...input.labels,
  };
  if (input.kernelId) labels[LABELS.kernelId] = input.kernelId;
  if (input.sessionId) labels[LABELS.sessionId] = input.sessionId;
  if (input.owner) labels[LABELS.owner] = input.owner;

  const hostConfig: Record<string, unknown> = {
    NetworkMode: "none",
    CapDrop: ["ALL"],
    SecurityOpt: [
      "no-new-privileges",
      ...(input.seccompProfile ? [`seccomp=${input.seccompProfile}`] : []),
    ],
    PidsLimit: input.pidsLimit ?? DEFAULT_PIDS_LIMIT,
    ReadonlyRootfs: true,
    Tmpfs: { "/tmp": `rw,nosuid,nodev,${input.tmpSize ?? "size=64m"}` },
    Binds: binds,
    Memory: Math.floor(slots.mem),
    MemorySwap: Math.floor(slots.mem),
    NanoCpus: Math.round(slots.cpu * 1e9),
    // The runner's own init is pid 1 (images/runner/bai_init.py): not
    // dumpable, it can reset the container between sessions.
    Init: false,
    IpcMode: "private",
    RestartPolicy: { Name: "no" },
    // Readable (GET /containers/{id}/logs, `backend.ai logs`) and bounded:
    // stdout carries runner frames, so only stderr is ever read back.
    LogConfig: {
      Type: "local",
      Config: { "max-size": "1m", "max-file": "1", compress: "false" },
    },
  };
  if (gpuCount > 0) {
    hostConfig.DeviceRequests = [{
      Driver: "nvidia",
      DeviceIDs: gpuIds,
      Capabilities: [["gpu"]],
    }];
  }
  const body: Record<string, unknown> = {
    Image: input.image,
    User: "1000:1000",
    WorkingDir: WORK_DIR,
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    Labels: labels,
    OpenStdin: true,
    StdinOnce: false,
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
    NetworkDisabled: true,
    HostConfig: hostConfig,
  };
  if (input.cmd) body.Cmd = input.cmd;
  return body;
}
