/**
 * Whole-device GPU allocator: a kernel gets `count` devices nobody else
 * holds, or nothing (no partial grants); `release(kernelId)` gives them back
 * when the kernel ends. Devices are named by UUID (stable across reboots,
 * unlike indexes) and handed to Docker's DeviceRequests as such.
 */
import type { GpuDevice } from "./discovery.ts";

/** Not enough free devices for a request. */
export class GpuAllocationError extends Error {
  override name = "GpuAllocationError";
  constructor(readonly requested: number, readonly free: number) {
    super(`requested ${requested} GPUs, ${free} free`);
  }
}

/** Allocates whole GPUs to kernels; never one device to two kernels. */
export class GpuAllocator {
  readonly devices: readonly GpuDevice[];
  #owner = new Map<string, string>(); // uuid -> kernelId

  constructor(devices: readonly GpuDevice[]) {
    this.devices = devices;
  }

  /** The `cuda.device` capacity this node reports. */
  get capacity(): number {
    return this.devices.length;
  }

  /** Devices not held by any kernel. */
  get free(): number {
    return this.devices.length - this.#owner.size;
  }

  /**
   * Gives `count` free devices to `kernelId` (lowest index first) and
   * returns their UUIDs. A kernel that already holds devices gets an error:
   * allocation is once per kernel. `count` 0 returns [].
   */
  allocate(kernelId: string, count: number): string[] {
    if (!Number.isInteger(count) || count < 0) {
      throw new RangeError(`bad GPU count ${count}`);
    }
    if (count === 0) return [];
    if (this.heldBy(kernelId).length > 0) {
      throw new Error(`kernel ${kernelId} already holds GPUs`);
    }
    const free = this.devices.filter((d) => !this.#owner.has(d.uuid));
    if (free.length < count) throw new GpuAllocationError(count, free.length);
    const chosen = free.sort((a, b) => a.index - b.index).slice(0, count);
    for (const d of chosen) this.#owner.set(d.uuid, kernelId);
    return chosen.map((d) => d.uuid);
  }

  /** Returns the kernel's devices to the free set; unknown kernels are a no-op. */
  release(kernelId: string): void {
    for (const [uuid, k] of this.#owner) {
      if (k === kernelId) this.#owner.delete(uuid);
    }
  }

  /** UUIDs held by a kernel. */
  heldBy(kernelId: string): string[] {
    return [...this.#owner].filter(([, k]) => k === kernelId).map(([u]) => u);
  }
}
