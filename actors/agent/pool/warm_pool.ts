/**
 * Warm pool: per image, pre-started containers whose runner already said
 * `ready`, so a new kernel costs a map lookup and a resize instead of
 * create + start + ready.
 *
 * Any size (decision): a pool container is created with the standard
 * slots and, when taken, set to the session's cpu, memory and pids limits
 * (kernel/resize.ts), so every size a session asks for starts warm. What
 * cannot change on a running container is left to a cold launch: GPUs and
 * bind mounts (the caller decides), and environment variables the
 * interpreter reads at start (see {@linkcode warmableEnv}); the others are
 * given to the runner before the first run (`env` op).
 *
 * Reused after a reset (decision): when its session ends, a container
 * whose runner runs under the image's own init is reset (pool/recycle.ts:
 * every process killed, every writable dir emptied, usage counters zeroed,
 * a fresh runner, all checked from the host) and goes back to the pool if
 * the pool wants one more of its image; otherwise, or if any step fails,
 * it is destroyed. The reset costs milliseconds where a replacement costs
 * the engine a quarter of a CPU second (create, start, remove).
 *
 * Identity: container labels cannot change after create, so pool containers
 * carry generic labels only (`ai.backend.agent-id`, `ai.backend.pool=<image>`).
 * On `take` the identity is written to the kernel's record file
 * (`<dataDir>/kernels/<key>/kernel.json`, outside the mounted work dir).
 *
 * Size: per image by recent demand (takes in the last minute, hit or miss),
 * within a memory budget for idle containers (policies/pool_sizing.ts); an
 * image's footprint (its idle cgroup's memory plus the engine's per-container
 * overhead) and launch time are measured as containers come up. Refill runs
 * in the background, `concurrency` launches at a time; containers above the
 * wanted count (demand went away) are destroyed.
 *
 * @module
 */
import type { KernelLauncher, LaunchedKernel } from "../kernel/launcher.ts";
import {
  DEFAULT_PIDS_LIMIT,
  type KernelSlots,
  LABELS,
} from "../kernel/spec.ts";
import { type KernelLimits, resizeKernel } from "../kernel/resize.ts";
import { setScratchQuota, writeKernelRecord } from "../kernel/workdir.ts";
import { poolTargets } from "../../../policies/pool_sizing.ts";
import { DockerError } from "../docker/errors.ts";
import { resetKernel, type ResetOptions } from "./recycle.ts";
import { cgroupPaths } from "../metering/cgroup.ts";

/** Engine memory per container beyond its cgroup (the shim's share, measured: ~4 MiB PSS). */
export const CONTAINER_OVERHEAD_BYTES = 6 << 20;

/** Footprint assumed for an image until one of its containers is measured. */
const DEFAULT_FOOTPRINT = 48 << 20;

/** Options of {@linkcode WarmPool}. */
export interface WarmPoolOptions {
  launcher: KernelLauncher;
  /** Idle containers kept per image even without demand (`--pool` × `--pool-images`). */
  targets: Record<string, number>;
  /** Slots every pool container is created with; `take` sets the session's. */
  slots: { cpu: number; mem: number };
  /** Host memory all idle containers may hold, bytes (`--pool-budget`). */
  budget: number;
  /** Demand counts the takes of this last stretch. @default {60000} */
  demandWindowMs?: number;
  /** Launches in flight at once. @default {4} */
  concurrency?: number;
  /** Most idle containers of one image. @default {64} */
  maxPerImage?: number;
  /** Memory an idle container holds now (bytes), null if unknown. @default {its cgroup's usage} */
  measure?: (containerId: string) => Promise<number | null>;
  /** Background failures (launches back off and retry; resizes fall back to cold). */
  onError?: (image: string, error: unknown) => void;
  /** Pause after a failed launch. @default {1000} */
  retryDelayMs?: number;
  /** Clock. @default {Date.now} */
  now?: () => number;
  /** Reset containers after their session and reuse them (see above). @default {true} */
  recycle?: boolean;
  /** Passed to the reset (pool/recycle.ts). */
  reset?: ResetOptions;
  /** How long a take that left stock waits to refill (reset containers come back meanwhile). @default {1000} */
  refillDelayMs?: number;
}

/** Who a taken container now is (more fields go into its record as given). */
export interface KernelIdentity {
  kernelId: string;
  sessionId: string;
  [field: string]: unknown;
}

/** What a session asks of a taken container besides its size. */
export interface TakeOptions {
  /** Added to the runner's environment before the first run (see {@linkcode warmableEnv}). */
  environ?: Record<string, string>;
  /** Limit of the work dir (scratch quota), bytes; default: the agent's. */
  scratchBytes?: number;
}

/** One idle container and the limits it runs with now. */
interface Idle {
  kernel: LaunchedKernel;
  limits: KernelLimits;
  /** Forgets the eviction on the container's death (it was taken). */
  forget?: () => void;
}

/**
 * Environment names the interpreter or the C library read once, at start
 * (locale, Python's own switches, the loader, allocators, the home dir):
 * set later they would not act, so a session naming one starts cold.
 */
const START_ENV =
  /^(LANG|LANGUAGE|LC_[A-Z_]+|PYTHON[A-Z_]*|LD_[A-Z_]+|MALLOC_[A-Z_]+|HOME|USER|TZ|TERM)$/;

/** Whether a session's environment can be given to a pool container after start. */
export function warmableEnv(environ: Record<string, string>): boolean {
  return Object.keys(environ).every((k) => !START_ENV.test(k));
}

/** Pre-started kernels per image. */
export class WarmPool {
  #opts: WarmPoolOptions;
  #idle = new Map<string, Idle[]>();
  #launching = new Map<string, number>();
  #asked = new Map<string, number[]>();
  #launchMs = new Map<string, number>();
  #footprint = new Map<string, number>();
  #budget: number;
  #refilling: Promise<void> | null = null;
  #closed = false;
  #dirty = false;
  #timer?: ReturnType<typeof setInterval>;
  #soon?: ReturnType<typeof setTimeout>;
  /** Limits a taken container runs with now (what a reused one starts from). */
  #limits = new WeakMap<LaunchedKernel, KernelLimits>();

  constructor(options: WarmPoolOptions) {
    this.#opts = options;
    this.#budget = options.budget;
  }

  /** Starts background filling (and a re-check of demand every 10 s). */
  start(): void {
    this.#kick();
    this.#timer ??= setInterval(() => this.#kick(), 10_000);
    Deno.unrefTimer(this.#timer as unknown as number);
  }

  /** Idle containers of `image` (all images when omitted). */
  size(image?: string): number {
    if (image) return this.#idle.get(image)?.length ?? 0;
    let n = 0;
    for (const l of this.#idle.values()) n += l.length;
    return n;
  }

  /** Host memory the idle and launching containers hold (estimate, bytes). */
  get heldBytes(): number {
    let b = 0;
    for (const image of this.#images()) {
      b += (this.size(image) + (this.#launching.get(image) ?? 0)) *
        this.#footprintOf(image);
    }
    return b;
  }

  /** Idle containers wanted per image now (demand within the budget). */
  targets(): Record<string, number> {
    const now = (this.#opts.now ?? Date.now)();
    const window = this.#opts.demandWindowMs ?? 60_000;
    const requests: Record<string, number> = {};
    for (const [image, times] of this.#asked) {
      while (times.length && times[0] <= now - window) times.shift();
      if (times.length) requests[image] = times.length;
      else this.#asked.delete(image);
    }
    const footprint: Record<string, number> = {};
    const launchMs: Record<string, number> = {};
    for (
      const image of new Set([...this.#images(), ...Object.keys(requests)])
    ) {
      footprint[image] = this.#footprintOf(image);
      const ms = this.#launchMs.get(image);
      if (ms !== undefined) launchMs[image] = ms;
    }
    return poolTargets({
      floor: this.#opts.targets,
      requests,
      windowMs: window,
      launchMs,
      footprint,
      budget: this.#budget,
      maxPerImage: this.#opts.maxPerImage,
    });
  }

  /** Resolves when no refill is running (for tests and shutdown). */
  async settled(): Promise<void> {
    while (this.#refilling) await this.#refilling;
  }

  /**
   * Takes a ready container of `image` for a session of `slots` (no GPUs),
   * sets its limits, environment and scratch quota to the session's,
   * records `identity` in its record file and starts a refill. Every call
   * counts as demand for the image. Returns null when the pool has none
   * (or one could not be fitted): launch cold then.
   */
  async take(
    image: string,
    slots: KernelSlots,
    identity: KernelIdentity,
    options: TakeOptions = {},
  ): Promise<LaunchedKernel | null> {
    if ((slots["cuda.device"] ?? 0) > 0) return null;
    if (options.environ && !warmableEnv(options.environ)) return null;
    this.#note(image);
    const list = this.#idle.get(image);
    let idle: Idle | undefined;
    // Newest first: a container just reset or just started is the warmest.
    while ((idle = list?.pop())) {
      if (!idle.kernel.connection.isDead) break;
      this.#destroy(idle.kernel);
    }
    // With stock left, refill a little later: containers of sessions that
    // just ended come back reset by then, and a launch would be wasted.
    if (idle && list!.length > 0 && this.#recycles) this.#kickSoon();
    else this.#kick();
    if (!idle) return null;
    idle.forget?.();
    const k = idle.kernel;
    try {
      const to = { cpu: slots.cpu, mem: slots.mem, pids: idle.limits.pids };
      const env = options.environ ?? {};
      // Independent steps, at once: the record file write is the slow one.
      await Promise.all([
        to.cpu !== idle.limits.cpu || to.mem !== idle.limits.mem
          ? resizeKernel(
            this.#opts.launcher.docker,
            k.containerId,
            idle.limits,
            to,
            { onEngineError: (e) => this.#engineError(image, e) },
          )
          : undefined,
        Object.keys(env).length ? k.connection.setEnv(env) : undefined,
        options.scratchBytes !== undefined
          ? setScratchQuota(k.dirs, options.scratchBytes)
          : undefined,
        writeKernelRecord(k.dirs, {
          ...identity,
          image,
          containerId: k.containerId,
          slots,
          fromPool: true,
          takenAt: new Date().toISOString(),
        }),
      ]);
    } catch (e) {
      this.#opts.onError?.(image, e);
      await this.#destroy(k);
      return null;
    }
    // Wake the runner now, while the manager records the session: one
    // idle for seconds answers its first frame slowly (cold caches, a
    // sleeping process), and that first frame would be the session's query.
    k.connection.ping().catch(() => undefined);
    this.#limits.set(k, {
      cpu: slots.cpu,
      mem: slots.mem,
      pids: idle.limits.pids,
    });
    if (this.#recycles && k.connection.ready.resettable) {
      k.connection.keepOpen = true;
    }
    return k;
  }

  /**
   * A taken container whose session ended: reset and idle again when the
   * pool wants one more of its image (true), or left to the caller to
   * destroy (false: not wanted, not resettable, or the reset failed).
   */
  async giveBack(k: LaunchedKernel): Promise<boolean> {
    const limits = this.#limits.get(k);
    if (
      this.#closed || !limits || !k.connection.keepOpen ||
      k.connection.isDead ||
      this.size(k.image) >= (this.targets()[k.image] ?? 0)
    ) {
      return false;
    }
    this.#limits.delete(k);
    try {
      await resetKernel(this.#opts.launcher.docker, k, this.#opts.reset);
    } catch (e) {
      this.#opts.onError?.(k.image, e);
      return false;
    }
    if (this.#closed) return false;
    const list = this.#idle.get(k.image) ?? [];
    const idle: Idle = { kernel: k, limits };
    list.push(idle);
    this.#idle.set(k.image, list);
    idle.forget = k.connection.onClosed(() => this.#evict(k.image, idle));
    return true;
  }

  get #recycles(): boolean {
    return this.#opts.recycle !== false;
  }

  /** Changes the memory budget, destroying idle containers above it. */
  async setBudget(bytes: number): Promise<void> {
    this.#budget = Math.max(0, bytes);
    await this.#trim();
    this.#kick();
  }

  /** Stops refilling and destroys every idle container. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    clearTimeout(this.#soon);
    await this.settled();
    const all = [...this.#idle.values()].flat();
    this.#idle.clear();
    await Promise.all(all.map((i) => this.#destroy(i.kernel)));
  }

  #images(): Set<string> {
    return new Set([
      ...Object.keys(this.#opts.targets),
      ...this.#idle.keys(),
      ...this.#launching.keys(),
    ]);
  }

  #footprintOf(image: string): number {
    return this.#footprint.get(image) ?? DEFAULT_FOOTPRINT;
  }

  #note(image: string): void {
    const times = this.#asked.get(image) ?? [];
    times.push((this.#opts.now ?? Date.now)());
    // Bounded: the demand window never needs more than this to size a pool.
    if (times.length > 10_000) times.shift();
    this.#asked.set(image, times);
  }

  /** Destroys idle containers beyond what is wanted now (oldest demand first). */
  async #trim(): Promise<void> {
    const want = this.targets();
    const victims: LaunchedKernel[] = [];
    for (const [image, list] of this.#idle) {
      while (list.length > (want[image] ?? 0)) {
        victims.push(list.pop()!.kernel);
      }
    }
    await Promise.all(victims.map((k) => this.#destroy(k)));
  }

  /** The image most short of its target, or null when all are full. */
  #nextImage(): string | null {
    const want = this.targets();
    let best: string | null = null;
    let gap = 0;
    for (const [image, n] of Object.entries(want)) {
      const have = this.size(image) + (this.#launching.get(image) ?? 0);
      if (n - have > gap) {
        gap = n - have;
        best = image;
      }
    }
    return best;
  }

  /** A refill a little later (`refillDelayMs`; one pending at most). */
  #kickSoon(): void {
    if (this.#soon !== undefined || this.#closed) return;
    this.#soon = setTimeout(() => {
      this.#soon = undefined;
      this.#kick();
    }, this.#opts.refillDelayMs ?? 1_000);
    Deno.unrefTimer(this.#soon as unknown as number);
  }

  #kick(): void {
    if (this.#closed) return;
    if (this.#refilling) {
      this.#dirty = true;
      return;
    }
    this.#refilling = this.#refill().finally(() => {
      this.#refilling = null;
      if (this.#dirty && !this.#closed) {
        this.#dirty = false;
        this.#kick();
      }
    });
  }

  async #refill(): Promise<void> {
    await this.#trim();
    const inFlight = new Set<Promise<void>>();
    const limit = Math.max(1, this.#opts.concurrency ?? 4);
    for (;;) {
      while (!this.#closed && inFlight.size < limit) {
        const image = this.#nextImage();
        if (!image) break;
        const p: Promise<void> = this.#launchOne(image).finally(() =>
          inFlight.delete(p)
        );
        inFlight.add(p);
      }
      if (inFlight.size === 0) return;
      await Promise.race(inFlight);
    }
  }

  async #launchOne(image: string): Promise<void> {
    this.#launching.set(image, (this.#launching.get(image) ?? 0) + 1);
    const t0 = performance.now();
    let k: LaunchedKernel | undefined;
    try {
      k = await this.#opts.launcher.launch({
        image,
        kernelId: null,
        sessionId: null,
        slots: { ...this.#opts.slots },
        labels: { [LABELS.pool]: image },
      });
      this.#learn(this.#launchMs, image, performance.now() - t0);
    } catch (e) {
      this.#opts.onError?.(image, e);
      // An image this engine does not have is not warmed (until asked again).
      if (e instanceof DockerError && e.status === 404) {
        this.#asked.delete(image);
        return;
      }
      await new Promise((r) => setTimeout(r, this.#opts.retryDelayMs ?? 1000));
      return;
    } finally {
      this.#launching.set(image, this.#launching.get(image)! - 1);
      if (this.#launching.get(image) === 0) this.#launching.delete(image);
    }
    if (this.#closed || this.size(image) >= (this.targets()[image] ?? 0)) {
      await this.#destroy(k); // demand or budget shrank while launching
      return;
    }
    const list = this.#idle.get(image) ?? [];
    const idle: Idle = {
      kernel: k,
      limits: {
        cpu: this.#opts.slots.cpu,
        mem: this.#opts.slots.mem,
        pids: DEFAULT_PIDS_LIMIT,
      },
    };
    list.push(idle);
    this.#idle.set(image, list);
    idle.forget = k.connection.onClosed(() => this.#evict(image, idle));
    this.#measure(image, k.containerId);
  }

  /** Learns an image's idle footprint from a container that just came up. */
  #measure(image: string, containerId: string): void {
    const measure = this.#opts.measure ?? cgroupMemory;
    measure(containerId).then((bytes) => {
      if (bytes !== null) {
        this.#learn(this.#footprint, image, bytes + CONTAINER_OVERHEAD_BYTES);
      }
    }).catch(() => undefined);
  }

  /** A moving average (new samples weigh a quarter). */
  #learn(into: Map<string, number>, image: string, value: number): void {
    const old = into.get(image);
    into.set(image, old === undefined ? value : old * 0.75 + value * 0.25);
  }

  /**
   * The engine's own update after a resize failed: the cgroup is set, only
   * the engine's record lags. A container already gone (its session ended
   * at once) is no failure.
   */
  #engineError(image: string, e: unknown): void {
    if (e instanceof DockerError && (e.status === 404 || e.status === 409)) {
      return;
    }
    this.#opts.onError?.(image, e);
  }

  /** An idle container whose runner died leaves the pool. */
  #evict(image: string, idle: Idle): void {
    const list = this.#idle.get(image);
    const i = list?.indexOf(idle) ?? -1;
    if (i >= 0) {
      list!.splice(i, 1);
      this.#destroy(idle.kernel);
      this.#kick();
    }
  }

  async #destroy(k: LaunchedKernel): Promise<void> {
    await this.#opts.launcher.destroy(k).catch((e) =>
      this.#opts.onError?.(k.image, e)
    );
  }
}

/** A container's cgroup v1 memory use (bytes), null where it cannot be read. */
async function cgroupMemory(containerId: string): Promise<number | null> {
  try {
    const text = await Deno.readTextFile(cgroupPaths(containerId).mem);
    const n = Number(text.trim());
    return Number.isFinite(n) ? n : null;
  } catch {
    return null;
  }
}
