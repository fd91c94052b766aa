/**
 * The contract of a quota volume: a directory whose named child dirs each
 * have a byte limit the kernel enforces (a write past it fails with EDQUOT
 * or ENOSPC in whoever writes: a kernel container, an upload), not a
 * process that polls sizes. Implementations: btrfs.ts (subvolume + qgroup
 * limit on a loop-mounted btrfs image) and plain.ts (a plain directory
 * that refuses limits: a shared filesystem that enforces nothing itself).
 *
 * @module
 */

/** Space used by one quota dir. */
export interface DirUsage {
  /** Bytes referenced by the dir (data + metadata the filesystem accounts). */
  usedBytes: number;
  /** Its limit; null = none (bounded only by the volume). */
  limitBytes: number | null;
}

/** Size of the whole volume. */
export interface VolumeCapacity {
  totalBytes: number;
  freeBytes: number;
}

/** A directory of quota-limited child dirs. */
export interface QuotaVolume {
  /** `btrfs` (limits enforced) or `plain` (no limits). */
  readonly kind: "btrfs" | "plain";
  /** Absolute path of the volume's root; child dirs live right under it. */
  readonly root: string;
  /** Whether {@link create} and {@link setLimit} accept a limit. */
  readonly enforcesQuota: boolean;
  /**
   * Creates `root/name` limited to `limitBytes` (null: no limit) and
   * returns its path. Throws a `VolumeError` when it exists, or when a
   * limit is asked of a volume that cannot enforce one.
   */
  create(name: string, limitBytes: number | null): Promise<string>;
  /** Changes the limit of an existing dir (up or down; null removes it). */
  setLimit(name: string, limitBytes: number | null): Promise<void>;
  /** Usage of one dir; `sync` first flushes delayed accounting (slower, exact). */
  usage(name: string, options?: { sync?: boolean }): Promise<DirUsage>;
  /** Usage of every dir, by name. */
  usageAll(options?: { sync?: boolean }): Promise<Map<string, DirUsage>>;
  /** Removes the dir and everything in it; a missing one is fine. */
  remove(name: string): Promise<void>;
  /** Whether `root/name` exists. */
  has(name: string): Promise<boolean>;
  capacity(): Promise<VolumeCapacity>;
}

/** Names of quota dirs: one path segment of safe characters. */
export function checkDirName(name: string): string {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(name)) {
    throw new TypeError(`bad quota dir name: ${JSON.stringify(name)}`);
  }
  return name;
}
