/**
 * Warm pool: per image, N pre-started containers whose runner already said
 * `ready`, so a new kernel costs a map lookup instead of create+start+ready.
 *
 * Identity (decision): container labels cannot change after create, so pool
 * containers carry generic labels only (`ai.backend.agent-id`,
 * `ai.backend.pool=<image>`, no kernel/session id). On `take` the identity
 * is written to the kernel's record file (`<dataDir>/kernels/<key>/kernel.json`,
 * outside the mounted work dir) and returned to the caller, whose own
 * records (KernelActor) are the source of truth. A pool container has no
 * vfolder mounts and standard slots, so `take` only matches requests with
 * the same image, the same cpu/mem and no GPUs or mounts; others launch cold.
 *
 * Capacity: the pool never holds (or is launching) more slots than its
 * `capacity`; `shrink(need)` / `setCapacity` destroy idle containers when the
 * agent needs the room for real kernels. Refill runs in the background, one
 * launch at a time.
 */
import type { KernelLauncher, LaunchedKernel } from "../kernel/launcher.ts";
import { type KernelSlots, LABELS } from "../kernel/spec.ts";
import { writeKernelRecord } from "../kernel/workdir.ts";

/** cpu (cores) and mem (bytes) the pool may occupy. */
export interface PoolCapacity {
  cpu: number;
  mem: number;
}

/** Options of {@linkcode WarmPool}. */
export interface WarmPoolOptions {
  launcher: KernelLauncher;
  /** Wanted idle containers per image. */
  targets: Record<string, number>;
  /** Slots every pool container is created with. */
  slots: { cpu: number; mem: number };
  /** Upper bound of what the pool holds, idle + launching. */
  capacity: PoolCapacity;
  /** Background launch failures (the pool backs off and retries). */
  onError?: (image: string, error: unknown) => void;
  /** Pause after a failed launch. @default 1000 */
  retryDelayMs?: number;
}

/** Who a taken container now is. */
export interface KernelIdentity {
  kernelId: string;
  sessionId: string;
  owner?: string;
}

/** Pre-started kernels per image. */
export class WarmPool {
  #opts: WarmPoolOptions;
  #idle = new Map<string, LaunchedKernel[]>();
  #launching = 0;
  #capacity: PoolCapacity;
  #refilling: Promise<void> | null = null;
  #closed = false;
  #dirty = false;

  constructor(options: WarmPoolOptions) {
    this.#opts = options;
    this.#capacity = { ...options.capacity };
  }

  /** Starts background filling. */
  start(): void {
    this.#kick();
  }

  /** Idle containers of `image` (all images when omitted). */
  size(image?: string): number {
    if (image) return this.#idle.get(image)?.length ?? 0;
    let n = 0;
    for (const l of this.#idle.values()) n += l.length;
    return n;
  }

  /** Slots held by idle and launching pool containers. */
  get held(): PoolCapacity {
    const n = this.size() + this.#launching;
    return { cpu: n * this.#opts.slots.cpu, mem: n * this.#opts.slots.mem };
  }

  /** Resolves when no refill is running (for tests and shutdown). */
  async settled(): Promise<void> {
    while (this.#refilling) await this.#refilling;
  }

  /**
   * Takes a ready container for `image` if one matches `slots` exactly
   * (cpu, mem, no GPUs), records `identity` in its record file and starts
   * a refill. Returns null when none matches: launch cold then.
   */
  async take(
    image: string,
    slots: KernelSlots,
    identity: KernelIdentity,
  ): Promise<LaunchedKernel | null> {
    if ((slots["cuda.device"] ?? 0) > 0) return null;
    if (
      slots.cpu !== this.#opts.slots.cpu || slots.mem !== this.#opts.slots.mem
    ) return null;
    const list = this.#idle.get(image);
    let k: LaunchedKernel | undefined;
    while ((k = list?.shift())) {
      if (!k.connection.isDead) break;
      this.#destroy(k);
    }
    this.#kick();
    if (!k) return null;
    await writeKernelRecord(k.dirs, {
      ...identity,
      image,
      containerId: k.containerId,
      slots,
      fromPool: true,
      takenAt: new Date().toISOString(),
    });
    return k;
  }

  /** Changes the pool's capacity, destroying idle containers above it. */
  async setCapacity(capacity: PoolCapacity): Promise<void> {
    this.#capacity = { ...capacity };
    await this.#shrinkTo(capacity);
    this.#kick();
  }

  /**
   * Frees at least `need` by destroying idle containers (largest pools
   * first) and lowers the capacity accordingly so they are not refilled.
   * Returns what was freed.
   */
  async shrink(need: PoolCapacity): Promise<PoolCapacity> {
    const before = this.held;
    const target = {
      cpu: Math.max(0, this.#capacity.cpu - need.cpu),
      mem: Math.max(0, this.#capacity.mem - need.mem),
    };
    this.#capacity = target;
    await this.#shrinkTo(target);
    const after = this.held;
    return { cpu: before.cpu - after.cpu, mem: before.mem - after.mem };
  }

  async #shrinkTo(cap: PoolCapacity): Promise<void> {
    const victims: LaunchedKernel[] = [];
    while (
      this.size() > 0 && (this.held.cpu > cap.cpu || this.held.mem > cap.mem)
    ) {
      const largest = [...this.#idle.values()].sort((a, b) =>
        b.length - a.length
      )[0];
      victims.push(largest.pop()!);
    }
    await Promise.all(victims.map((k) => this.#destroy(k)));
  }

  /** Stops refilling and destroys every idle container. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.settled();
    const all = [...this.#idle.values()].flat();
    this.#idle.clear();
    await Promise.all(all.map((k) => this.#destroy(k)));
  }

  #fits(): boolean {
    const h = this.held;
    return h.cpu + this.#opts.slots.cpu <= this.#capacity.cpu + 1e-9 &&
      h.mem + this.#opts.slots.mem <= this.#capacity.mem;
  }

  #nextImage(): string | null {
    for (const [image, want] of Object.entries(this.#opts.targets)) {
      if (this.size(image) < want) return image;
    }
    return null;
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
    for (;;) {
      if (this.#closed) return;
      const image = this.#nextImage();
      if (!image || !this.#fits()) return;
      this.#launching++;
      try {
        const k = await this.#opts.launcher.launch({
          image,
          kernelId: null,
          sessionId: null,
          slots: { ...this.#opts.slots },
          labels: { [LABELS.pool]: image },
        });
        this.#launching--;
        if (
          this.#closed ||
          this.held.cpu + this.#opts.slots.cpu > this.#capacity.cpu + 1e-9 ||
          this.held.mem + this.#opts.slots.mem > this.#capacity.mem
        ) {
          await this.#destroy(k); // capacity shrank while launching
          continue;
        }
        const list = this.#idle.get(image) ?? [];
        list.push(k);
        this.#idle.set(image, list);
        k.connection.closed.then(() => this.#evict(image, k));
      } catch (e) {
        this.#launching--;
        this.#opts.onError?.(image, e);
        await new Promise((r) =>
          setTimeout(r, this.#opts.retryDelayMs ?? 1000)
        );
      }
    }
  }

  /** An idle container whose runner died leaves the pool. */
  #evict(image: string, k: LaunchedKernel): void {
    const list = this.#idle.get(image);
    const i = list?.indexOf(k) ?? -1;
    if (i >= 0) {
      list!.splice(i, 1);
      this.#destroy(k);
      this.#kick();
    }
  }

  async #destroy(k: LaunchedKernel): Promise<void> {
    await this.#opts.launcher.destroy(k).catch((e) =>
      this.#opts.onError?.(k.image, e)
    );
  }
}
