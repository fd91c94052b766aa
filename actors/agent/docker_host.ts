/**
 * The Docker implementation of {@link KernelHost}: kernels are hardened
 * containers (kernel/spec.ts) launched cold or taken from the warm pool,
 * GPUs are whole devices from the allocator, usage comes from cgroups.
 *
 * Identity: every kernel's host dir holds a `kernel.json` record (kernel,
 * session, owner ref, slots, container). After an agent restart, `adopt()`
 * matches running containers labelled with this agent to their records and
 * re-attaches to their runners; containers without a usable record (idle
 * pool containers, half-made kernels) are removed, but only when their work
 * dir lies in this agent's data dir: a container labelled with the same
 * agent id by a neighbour (another data dir) is never touched.
 *
 * @module
 */

import { DockerClient, DockerError } from "./docker/mod.ts";
import { discoverGpus, GpuAllocator } from "./gpu/mod.ts";
import { KernelConnection } from "./kernel/connection.ts";
import {
  type KernelDirs,
  kernelDirs,
  lanesRoot,
  readKernelRecord,
  writeKernelRecord,
} from "./kernel/workdir.ts";
import {
  KernelLauncher,
  type LaunchedKernel as Launched,
} from "./kernel/launcher.ts";
import { LABELS } from "./kernel/spec.ts";
import { KernelMeter } from "./metering/mod.ts";
import { WarmPool } from "./pool/mod.ts";
import { resolveImage } from "../../images/catalog.ts";
import type {
  KernelEnd,
  KernelHost,
  LaunchedKernel,
  LaunchRequest,
} from "./kernel_host.ts";
import { type AgentImage, DEFAULT_KERNEL_SLOTS } from "../protocol/agent.ts";

export interface DockerHostOptions {
  agentId: string;
  dataDir: string;
  nvidiaSmi: string;
  /** Warm containers per pool image. */
  poolSize: number;
  /** Image names or aliases kept warm. */
  poolImages: string[];
  /**
   * Host memory idle pool containers may hold (bytes); the pool grows by
   * demand within it. @default {1 GiB when poolSize > 0, else 0: no pool}
   */
  poolBudget?: number;
  /** Reset pool containers after their session and reuse them. @default {true} */
  poolRecycle?: boolean;
  /** Caps on offered slots; default: the machine's cores and memory less 1 GiB. */
  cpu?: number;
  mem?: number;
  /** The engine's socket. @default {"/var/run/docker.sock"} */
  dockerSocket?: string;
}

interface Private {
  dirs: KernelDirs;
  meter: KernelMeter;
  launched: Launched;
  /** Taken from the warm pool: it may go back there when the session ends. */
  fromPool: boolean;
}

export class DockerKernelHost implements KernelHost {
  #docker: DockerClient;
  #launcher: KernelLauncher;
  #gpus: GpuAllocator;
  #pool?: WarmPool;
  #capacity: Record<string, number>;
  #private = new WeakMap<LaunchedKernel, Private>();
  #images: { at: number; list: string[] } = { at: 0, list: [] };

  private constructor(
    readonly opts: DockerHostOptions,
    docker: DockerClient,
    gpus: GpuAllocator,
  ) {
    this.#docker = docker;
    this.#gpus = gpus;
    this.#launcher = new KernelLauncher(docker, {
      dataDir: opts.dataDir,
      agentId: opts.agentId,
    });
    const mem = Math.max(1 << 30, Deno.systemMemoryInfo().total - (1 << 30));
    this.#capacity = {
      cpu: opts.cpu ?? navigator.hardwareConcurrency,
      mem: opts.mem ?? mem,
      "cuda.device": gpus.capacity,
    };
  }

  static async create(opts: DockerHostOptions): Promise<DockerKernelHost> {
    await Deno.mkdir(opts.dataDir, { recursive: true });
    const docker = await DockerClient.connect({
      socketPath: opts.dockerSocket,
    });
    const gpus = new GpuAllocator(
      await discoverGpus({ nvidiaSmiPath: opts.nvidiaSmi }),
    );
    const host = new DockerKernelHost(opts, docker, gpus);
    const targets: Record<string, number> = {};
    for (const name of opts.poolImages) {
      const ref = resolveImage(name)?.ref;
      if (ref && opts.poolSize > 0 && await host.#hasImage(ref)) {
        targets[ref] = opts.poolSize;
      }
    }
    const budget = opts.poolBudget ?? (opts.poolSize > 0 ? 1 << 30 : 0);
    if (budget > 0) {
      host.#pool = new WarmPool({
        launcher: host.#launcher,
        targets,
        slots: { ...DEFAULT_KERNEL_SLOTS },
        budget,
        recycle: opts.poolRecycle,
        onError: (image, e) =>
          console.error(
            `agent ${opts.agentId}: warm pool (${image}): ${e}`,
          ),
      });
    }
    return host;
  }

  /** Starts filling the warm pool (after adoption, so the two do not race). */
  startPool(): void {
    this.#pool?.start();
  }

  async #hasImage(ref: string): Promise<boolean> {
    try {
      await this.#docker.inspectImage(ref);
      return true;
    } catch {
      return false;
    }
  }

  capacity(): Record<string, number> {
    return { ...this.#capacity };
  }

  /** Host memory the warm pool's idle containers hold (estimate, bytes). */
  poolHeldBytes(): number {
    return this.#pool?.heldBytes ?? 0;
  }

  plugins(): Record<string, unknown> {
    return this.#gpus.capacity ? { cuda: { devices: this.#gpus.devices } } : {};
  }

  async images(): Promise<string[]> {
    if (Date.now() - this.#images.at > 30_000) {
      const list = await this.#docker.listImages({
        labels: ["ai.backend.kernelspec"],
      }).catch(() => []);
      this.#images = {
        at: Date.now(),
        list: list.flatMap((i) => i.RepoTags ?? []).filter((t) =>
          t !== "<none>:<none>"
        ),
      };
    }
    return this.#images.list;
  }

  async imageDetails(): Promise<AgentImage[]> {
    const list = await this.#docker.listImages({
      labels: ["ai.backend.kernelspec"],
    });
    return list.flatMap((i) =>
      (i.RepoTags ?? []).filter((t) => t !== "<none>:<none>").map((ref) => ({
        ref,
        id: i.Id,
        sizeBytes: i.Size ?? 0,
        created: i.Created ?? 0,
        labels: i.Labels ?? {},
      }))
    );
  }

  async launch(req: LaunchRequest): Promise<LaunchedKernel> {
    const image = resolveImage(req.image)?.ref ?? req.image;
    const slots = {
      cpu: req.slots.cpu ?? DEFAULT_KERNEL_SLOTS.cpu,
      mem: req.slots.mem ?? DEFAULT_KERNEL_SLOTS.mem,
      "cuda.device": req.slots["cuda.device"] ?? 0,
    };
    const gpuIds = slots["cuda.device"] > 0
      ? this.#gpus.allocate(req.kernelId, slots["cuda.device"])
      : [];
    let launched: Launched | null = null;
    let fromPool = false;
    try {
      // Any size starts warm (the pool resizes); GPUs and bind mounts cannot
      // be added to a running container, so those sessions launch cold.
      if (gpuIds.length === 0 && req.mounts.length === 0) {
        launched = await this.#pool?.take(image, slots, {
          kernelId: req.kernelId,
          sessionId: req.sessionId,
          owner: req.owner,
          gpuIds,
        }, { environ: req.environ, scratchBytes: req.scratchBytes }) ?? null;
      }
      fromPool = launched !== null;
      if (!launched) {
        launched = await this.#launcher.launch({
          image,
          kernelId: req.kernelId,
          sessionId: req.sessionId,
          slots,
          gpuIds,
          mounts: req.mounts,
          environ: req.environ,
          quotaBytes: req.scratchBytes,
        });
      }
      // A pool take wrote the record already (pool/warm_pool.ts).
      if (!fromPool) {
        await writeKernelRecord(launched.dirs, {
          kernelId: req.kernelId,
          sessionId: req.sessionId,
          owner: req.owner,
          image,
          slots,
          gpuIds,
          containerId: launched.containerId,
          fromPool,
        });
      }
    } catch (e) {
      this.#gpus.release(req.kernelId);
      if (launched) {
        await this.#launcher.destroy(launched).catch(() => undefined);
      }
      throw e;
    }
    return this.#wrap(
      launched,
      req.kernelId,
      req.sessionId,
      req.owner,
      slots,
      gpuIds,
      fromPool,
    );
  }

  #wrap(
    launched: Launched,
    kernelId: string,
    sessionId: string,
    owner: { node: string; path: string },
    slots: Record<string, number>,
    devices: string[],
    fromPool = false,
  ): LaunchedKernel {
    const meter = new KernelMeter(launched.containerId, { intervalMs: 5000 });
    meter.start();
    const kernel: LaunchedKernel = {
      kernelId,
      sessionId,
      containerId: launched.containerId,
      image: launched.image,
      slots,
      devices,
      owner,
      conn: launched.connection,
    };
    this.#private.set(kernel, {
      dirs: launched.dirs,
      meter,
      launched,
      fromPool,
    });
    return kernel;
  }

  async adopt(): Promise<LaunchedKernel[]> {
    const adopted: LaunchedKernel[] = [];
    // The last run's lane sockets (kernel/lane.ts): no listener outlives
    // its agent, and the runners it left are back on their stdio.
    await Deno.remove(lanesRoot(this.opts.dataDir), { recursive: true })
      .catch((e) => {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      });
    const containers = await this.#docker.listContainers({
      labels: { [LABELS.agentId]: this.opts.agentId },
      all: true,
    });
    const records = await this.#records();
    for (const c of containers) {
      const rec = records.get(c.Id);
      if (!rec && !this.#worksInDataDir(c)) {
        // Same agent id, another data dir: a neighbour's kernel (a second
        // `deno task start` on this host, an agent given the same --id).
        // Only a container we can prove is ours is ever removed.
        console.error(
          `agent ${this.opts.agentId}: container ${
            c.Id.slice(0, 12)
          } carries this agent's id but its work dir is not under ${this.opts.dataDir}: left alone`,
        );
        continue;
      }
      // A paused kernel (suspended session) is adopted too, and stays paused.
      const paused = c.State === "paused";
      const running = c.State === "running" || paused;
      if (!rec || !running || !rec.record.kernelId || !rec.record.owner) {
        await this.#docker.removeContainer(c.Id, { force: true }).catch(() =>
          undefined
        );
        if (rec) {
          await Deno.remove(rec.dirs.root, { recursive: true }).catch(() =>
            undefined
          );
        }
        continue;
      }
      try {
        // The runner must answer the re-attach ping: thaw it meanwhile.
        if (paused) await this.#docker.unpauseContainer(c.Id);
        const stream = await this.#docker.attach(c.Id);
        const connection = await KernelConnection.reattach(stream);
        if (paused) await this.#docker.pauseContainer(c.Id);
        const r = rec.record as {
          kernelId: string;
          sessionId: string;
          owner: { node: string; path: string };
          image: string;
          slots: Record<string, number>;
          gpuIds?: string[];
        };
        const gpuIds = r.gpuIds ?? [];
        if (gpuIds.length) this.#gpus.allocate(r.kernelId, gpuIds.length);
        adopted.push(
          this.#wrap(
            {
              containerId: c.Id,
              dirs: rec.dirs,
              connection,
              image: r.image,
              readyAt: Date.now(),
            },
            r.kernelId,
            r.sessionId,
            r.owner,
            r.slots,
            gpuIds,
          ),
        );
        if (paused) adopted[adopted.length - 1].paused = true;
      } catch (e) {
        console.error(
          `agent ${this.opts.agentId}: cannot re-adopt ${
            c.Id.slice(0, 12)
          }: ${e}; removing it`,
        );
        await this.#docker.removeContainer(c.Id, { force: true }).catch(() =>
          undefined
        );
      }
    }
    return adopted;
  }

  /**
   * Whether the container's /home/work is bind-mounted from this agent's
   * `<dataDir>/kernels/`: the proof that this agent (this data dir) made
   * it, for containers without a record (pool containers, half-made
   * kernels). A record naming the container id is the other proof.
   */
  #worksInDataDir(c: Record<string, unknown>): boolean {
    const prefix = `${this.opts.dataDir.replace(/\/+$/, "")}/kernels/`;
    const mounts = Array.isArray(c.Mounts) ? c.Mounts : [];
    return mounts.some((m: { Source?: unknown; Destination?: unknown }) =>
      m?.Destination === "/home/work" && typeof m.Source === "string" &&
      m.Source.startsWith(prefix)
    );
  }

  /** Kernel records under the data dir, by container id. */
  async #records(): Promise<
    Map<string, { dirs: KernelDirs; record: Record<string, unknown> }>
  > {
    const out = new Map<
      string,
      { dirs: KernelDirs; record: Record<string, unknown> }
    >();
    try {
      for await (const e of Deno.readDir(`${this.opts.dataDir}/kernels`)) {
        if (!e.isDirectory) continue;
        const dirs = kernelDirs(this.opts.dataDir, e.name);
        const record = await readKernelRecord(dirs).catch(() => null);
        if (record && typeof record.containerId === "string") {
          out.set(record.containerId, { dirs, record });
        }
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    return out;
  }

  async stats(kernel: LaunchedKernel): Promise<Record<string, number>> {
    const p = this.#private.get(kernel);
    const s = await p?.meter.sample();
    if (!s) return {};
    return usageFigures(s);
  }

  async ended(kernel: LaunchedKernel, fallback: string): Promise<KernelEnd> {
    const p = this.#private.get(kernel);
    const totals = await p?.meter.stop().catch(() => null);
    const stats = totals ? usageFigures(totals) : {};
    // The stream may end a moment before the engine marks the container stopped.
    const exit = await withTimeout(
      this.#launcher.exitInfo(kernel.containerId),
      5_000,
    ).catch(() => null);
    if (!exit) {
      return { reason: fallback, oomKilled: false, exitCode: null, stats };
    }
    return {
      reason: endReason(exit, kernel.slots.mem, fallback),
      oomKilled: exit.oomKilled,
      exitCode: exit.exitCode,
      stats,
    };
  }

  /** Docker pause; a container already paused is fine. */
  async pause(kernel: LaunchedKernel): Promise<void> {
    await this.#freeze(kernel, true);
  }

  /** Docker unpause; a container not paused is fine. */
  async resume(kernel: LaunchedKernel): Promise<void> {
    await this.#freeze(kernel, false);
  }

  async #freeze(kernel: LaunchedKernel, pause: boolean): Promise<void> {
    const id = kernel.containerId;
    try {
      if (pause) await this.#docker.pauseContainer(id);
      else await this.#docker.unpauseContainer(id);
    } catch (e) {
      // Already in that state (fine; engines answer 409 or 500 for it),
      // or not running at all (not fine).
      if (!(e instanceof DockerError)) throw e;
      const state = (await this.#docker.inspectContainer(id)).State as {
        Running: boolean;
        Paused?: boolean;
      };
      if (!state.Running || Boolean(state.Paused) !== pause) throw e;
    }
    kernel.paused = pause;
  }

  async destroy(kernel: LaunchedKernel): Promise<void> {
    const p = this.#private.get(kernel);
    this.#gpus.release(kernel.kernelId);
    if (!p) return;
    await p.meter.stop();
    // A frozen container cannot act on the stop signal: thaw it first.
    if (kernel.paused) await this.resume(kernel).catch(() => undefined);
    // Reset and reused when the pool wants it (pool/recycle.ts), else gone.
    if (p.fromPool && await this.#pool?.giveBack(p.launched)) return;
    await this.#launcher.destroy(p.launched);
  }

  async close(): Promise<void> {
    await this.#pool?.close();
    this.#docker.close();
  }

  /**
   * The kernel container's own log through the Engine API, stderr only
   * (its stdout carries the runner's frames). A container started before
   * logs were readable (log driver `none`: 501 from the engine) has none.
   */
  async logs(kernel: LaunchedKernel): Promise<string> {
    try {
      return await this.#docker.containerLogs(kernel.containerId, {
        stdout: false,
        stderr: true,
        // A reset container's log before its reset is another session's.
        sinceMs: this.#private.get(kernel)?.launched.resetAt,
      });
    } catch (e) {
      if (e instanceof DockerError && e.status === 501) return "";
      throw e;
    }
  }
}

/**
 * A usage sample as whole numbers: the figures cross to the manager, which
 * stores them in integer (bigint) columns; a fractional cpuMs there fails
 * the usage insert and with it the session's end.
 */
export function usageFigures(
  s: {
    cpuMs: number;
    memKiB: number;
    memPeakKiB: number;
    ioReadBytes: number;
    ioWriteBytes: number;
  },
): Record<string, number> {
  return {
    cpuMs: Math.round(s.cpuMs),
    memKiB: Math.round(s.memKiB),
    memPeakKiB: Math.round(s.memPeakKiB),
    ioReadBytes: Math.round(s.ioReadBytes),
    ioWriteBytes: Math.round(s.ioWriteBytes),
  };
}

/** The status info of a kernel that ended on its own. */
export function endReason(
  exit: { exitCode: number; oomKilled: boolean },
  memBytes: number | undefined,
  fallback: string,
): string {
  if (exit.oomKilled) {
    const limit = memBytes ? ` of ${Math.round(memBytes / 2 ** 20)} MiB` : "";
    return `out of memory (OOM): the kernel exceeded its memory limit${limit} and was killed`;
  }
  return `kernel exited with code ${exit.exitCode} (${fallback})`;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<null>((r) => (timer = setTimeout(() => r(null), ms))),
  ]).finally(() => clearTimeout(timer));
}
