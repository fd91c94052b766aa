/**
 * Quota volumes: directories whose child dirs have byte limits enforced by
 * the kernel's filesystem. The storage node keeps folders in them; agents
 * keep each kernel's `/home/work` in one (the scratch quota).
 *
 * ```ts ignore
 * import { openQuotaVolume } from "./mod.ts";
 * const v = await openQuotaVolume({ root: "/srv/vfs/local", image: "/srv/vfs/local.img" });
 * const dir = await v.create("f-1", 10 * 2 ** 20); // a write past 10 MiB: EDQUOT
 * ```
 *
 * @module
 */

import { BtrfsVolume } from "./btrfs.ts";
import { hasTool, VolumeError } from "./exec.ts";
import { PlainVolume } from "./plain.ts";
import type { QuotaVolume } from "./volume.ts";

export { BtrfsVolume, parseQgroupShow } from "./btrfs.ts";
export { PlainVolume } from "./plain.ts";
export { exec, VolumeError } from "./exec.ts";
export { mountAt, readMounts, unmountUnder } from "./mounts.ts";
export type * from "./volume.ts";
export { checkDirName } from "./volume.ts";

/** Options of {@link openQuotaVolume}. */
export interface OpenVolumeOptions {
  /** Where the dirs live (the mountpoint for btrfs). */
  root: string;
  /** The btrfs image file. */
  image: string;
  /** Size of a new image. @default {64 GiB} */
  sizeBytes?: number;
  /**
   * `btrfs` (fail when it cannot be had), `plain` (no limits), or `auto`:
   * btrfs when we are root and the tools are installed, else plain.
   * @default {"auto"}
   */
  kind?: "btrfs" | "plain" | "auto";
  /** Told why `auto` fell back to plain. @default {console.error} */
  warn?: (line: string) => void;
}

/** Opens (making and mounting when needed) the quota volume at `root`. */
export async function openQuotaVolume(
  options: OpenVolumeOptions,
): Promise<QuotaVolume> {
  const kind = options.kind ?? "auto";
  const warn = options.warn ?? console.error;
  if (kind === "plain") return await PlainVolume.open(options.root);
  if (kind === "auto") {
    const why = Deno.uid() !== 0
      ? "not running as root (loop mounts need it)"
      : !(await hasTool("mkfs.btrfs"))
      ? "btrfs-progs is not installed (apt-get install btrfs-progs)"
      : undefined;
    if (why) {
      warn(`quota volume ${options.root}: ${why}; quotas are NOT enforced`);
      return await PlainVolume.open(options.root);
    }
  }
  try {
    return await BtrfsVolume.open({
      image: options.image,
      mountpoint: options.root,
      sizeBytes: options.sizeBytes,
    });
  } catch (e) {
    if (kind === "btrfs" || !(e instanceof VolumeError)) throw e;
    warn(
      `quota volume ${options.root}: ${e.message}; quotas are NOT enforced`,
    );
    return await PlainVolume.open(options.root);
  }
}
