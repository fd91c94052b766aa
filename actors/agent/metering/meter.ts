/**
 * Samples one kernel's usage at a fixed interval and once more on demand
 * (call `sample()` just before killing: the cgroup vanishes at exit). Keeps
 * the merged totals so a gone cgroup never loses what was seen.
 */
import { mergeSample, readCgroupSample, type UsageSample } from "./cgroup.ts";

/** Options of {@linkcode KernelMeter}. */
export interface KernelMeterOptions {
  /** @default 5000 */
  intervalMs?: number;
  /** cgroup v1 root. @default "/sys/fs/cgroup" */
  cgroupRoot?: string;
  /** Where samples come from; @default cgroup files. Swap in Engine stats elsewhere. */
  read?: (containerId: string) => Promise<UsageSample | null>;
  /** Called after each successful sample. */
  onSample?: (totals: UsageSample) => void;
}

/** Periodic usage sampler for one container. */
export class KernelMeter {
  readonly containerId: string;
  #totals: UsageSample | null = null;
  #timer: ReturnType<typeof setInterval> | undefined;
  #read: (id: string) => Promise<UsageSample | null>;
  #opts: KernelMeterOptions;

  constructor(containerId: string, options: KernelMeterOptions = {}) {
    this.containerId = containerId;
    this.#opts = options;
    this.#read = options.read ??
      ((id) => readCgroupSample(id, options.cgroupRoot));
  }

  /** Starts interval sampling (idempotent). */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      this.sample().catch(() => {});
    }, this.#opts.intervalMs ?? 5000);
  }

  /** Takes one sample now; returns the totals so far (null if never sampled). */
  async sample(): Promise<UsageSample | null> {
    const s = await this.#read(this.containerId);
    if (s) {
      this.#totals = mergeSample(this.#totals, s);
      this.#opts.onSample?.(this.#totals);
    }
    return this.#totals;
  }

  /** Totals so far. */
  get totals(): UsageSample | null {
    return this.#totals;
  }

  /** Final sample (if the cgroup is still there) and stop; returns the totals. */
  async stop(): Promise<UsageSample | null> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    return await this.sample().catch(() => this.#totals);
  }
}
