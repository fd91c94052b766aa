/**
 * Turns a spec into a running, attached, ready kernel and back into nothing:
 * listen on the kernel's lane socket (lane.ts) → create (hardened spec) →
 * attach (before start, so `ready` is not missed) → start → wait for
 * `ready`, on the lane or, from a runner without it, on stdout. Any failure on the way removes the container.
 * `destroy` reports how the container ended, including OOM kills.
 */
import { DockerError } from "../docker/errors.ts";
import type { DockerClient } from "../docker/client.ts";
import { buildContainerSpec, type KernelSpecInput } from "./spec.ts";
import {
  KernelConnection,
  type KernelConnectionOptions,
} from "./connection.ts";
import { listenLane, SocketLane } from "./lane.ts";
import {
  type KernelDirs,
  prepareKernelDirs,
  removeKernelDirs,
} from "./workdir.ts";

/** Options of {@linkcode KernelLauncher}. */
export interface KernelLauncherOptions {
  /** Agent data dir; kernel dirs go under `<dataDir>/kernels/`. */
  dataDir: string;
  agentId: string;
  /** Passed to every {@linkcode KernelConnection.open}. */
  connection?: KernelConnectionOptions;
  /** The runner protocol on a unix socket (lane.ts), not the attached stdio. @default true */
  lane?: boolean;
}

/** What {@linkcode KernelLauncher.launch} takes: the spec minus what the launcher fills in. */
export type LaunchInput = Omit<KernelSpecInput, "workDir" | "agentId"> & {
  /** Dir key; @default kernelId, or `pool-<uuid>` when kernelId is null. */
  key?: string;
  /** Scratch quota of the work dir, bytes. @default {the agent's} */
  quotaBytes?: number;
};

/** A started kernel whose runner said `ready`. */
export interface LaunchedKernel {
  containerId: string;
  dirs: KernelDirs;
  connection: KernelConnection;
  image: string;
  /** ms since epoch when the runner became ready. */
  readyAt: number;
  /** ms since epoch of its last reset for another session (pool/recycle.ts); its log before is not this session's. */
  resetAt?: number;
}

/** How a container ended. */
export interface KernelExit {
  exitCode: number;
  /** The kernel hit its memory limit (engine's State.OOMKilled, or 137 + OOM). */
  oomKilled: boolean;
}

/** Create/attach/start/ready and kill/remove for kernels. */
export class KernelLauncher {
  readonly docker: DockerClient;
  readonly options: KernelLauncherOptions;

  constructor(docker: DockerClient, options: KernelLauncherOptions) {
    this.docker = docker;
    this.options = options;
  }

  /** Launches a kernel; throws (after cleaning up) if it never becomes ready. */
  async launch(input: LaunchInput): Promise<LaunchedKernel> {
    const key = input.key ?? input.kernelId ?? `pool-${crypto.randomUUID()}`;
    const dirs = await prepareKernelDirs(this.options.dataDir, key, {
      quotaBytes: input.quotaBytes,
    });
    let lane: Deno.UnixListener | null = null;
    let id: string | null = null;
    try {
      if (this.options.lane !== false) lane = await listenLane(dirs.lane);
      const body = buildContainerSpec({
        ...input,
        workDir: dirs.work,
        agentId: this.options.agentId,
        laneDir: lane ? dirs.lane : undefined,
      });
      id = await this.docker.createContainer(body);
      const attached = await this.docker.attach(id);
      const stream = lane ? new SocketLane(attached, lane) : attached;
      lane = null; // the stream closes it now
      try {
        await this.docker.startContainer(id);
      } catch (e) {
        stream.close();
        throw e;
      }
      const connection = await KernelConnection.open(
        stream,
        this.options.connection,
      );
      return {
        containerId: id,
        dirs,
        connection,
        image: input.image,
        readyAt: Date.now(),
      };
    } catch (e) {
      lane?.close();
      if (id) {
        await this.docker.removeContainer(id, { force: true }).catch(() => {});
      }
      await removeKernelDirs(dirs).catch(() => {});
      throw e;
    }
  }

  /** Exit code and OOM flag of a stopped container (waits for it to stop). */
  async exitInfo(containerId: string): Promise<KernelExit> {
    await this.docker.waitContainer(containerId, "not-running");
    const info = await this.docker.inspectContainer(containerId);
    return { exitCode: info.State.ExitCode, oomKilled: info.State.OOMKilled };
  }

  /**
   * Kills and removes the container (a missing one is fine), then its host
   * dirs unless `keepDirs`. Returns how it ended, or null if it was gone.
   */
  async destroy(
    kernel: Pick<LaunchedKernel, "containerId" | "dirs"> & {
      connection?: KernelConnection;
    },
    options: { keepDirs?: boolean } = {},
  ): Promise<KernelExit | null> {
    let exit: KernelExit | null = null;
    try {
      await this.docker.killContainer(kernel.containerId).catch((e) => {
        if (!(e instanceof DockerError && e.status === 409)) throw e; // 409: not running
      });
      exit = await this.exitInfo(kernel.containerId);
      await this.docker.removeContainer(kernel.containerId, { force: true });
    } catch (e) {
      if (!(e instanceof DockerError && e.status === 404)) throw e;
    } finally {
      kernel.connection?.dispose();
    }
    if (!options.keepDirs) await removeKernelDirs(kernel.dirs);
    return exit;
  }
}
