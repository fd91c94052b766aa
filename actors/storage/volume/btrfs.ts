/**
 * A quota volume on btrfs: one sparse image file, loop-mounted, with
 * quota groups on; each quota dir is a subvolume whose qgroup carries a
 * `max referenced` limit. The kernel refuses a write past it with EDQUOT
 * ("Disk quota exceeded"), whoever writes (a container through a bind
 * mount, the storage node's upload, a `dd`).
 *
 * Why btrfs: this machine's kernel has no CONFIG_QUOTA (ext4 and XFS
 * project quotas fail to mount: "quota support not available"), but
 * btrfs qgroups are btrfs's own accounting and work here. One loop device
 * per volume (not per folder), a subvolume is made in milliseconds, a limit
 * can go up or down at any time, and usage of every dir comes from one
 * `btrfs qgroup show`. The image is sparse and fixed in size, so the
 * volume as a whole can never take more of the host's disk than that.
 *
 * @module
 */

import { dirname } from "node:path";
import { exec, VolumeError } from "./exec.ts";
import { mountAt } from "./mounts.ts";
import {
  checkDirName,
  type DirUsage,
  type QuotaVolume,
  type VolumeCapacity,
} from "./volume.ts";

/** Options of {@link BtrfsVolume.open}. */
export interface BtrfsVolumeOptions {
  /** The image file (created sparse when missing). */
  image: string;
  /** Where it is mounted (created when missing; must be empty unless already mounted). */
  mountpoint: string;
  /**
   * Size of a new image; an existing image keeps its size.
   * @default {64 GiB}
   */
  sizeBytes?: number;
}

/** Smallest image mkfs.btrfs accepts comfortably. */
const MIN_SIZE = 256 * 2 ** 20;

/** In-process guard: one open per mountpoint at a time. */
const opening = new Map<string, Promise<BtrfsVolume>>();

export class BtrfsVolume implements QuotaVolume {
  readonly kind = "btrfs";
  readonly enforcesQuota = true;

  private constructor(readonly root: string, readonly image: string) {}

  /**
   * Mounts the volume (making the image first when it does not exist) and
   * enables quotas. An image already mounted there is reused as it is, so
   * a restarted process finds its volume and every dir in it.
   */
  static open(options: BtrfsVolumeOptions): Promise<BtrfsVolume> {
    const root = options.mountpoint.replace(/\/+$/, "");
    let p = opening.get(root);
    if (!p) {
      p = BtrfsVolume.#open({ ...options, mountpoint: root }).finally(() =>
        opening.delete(root)
      );
      opening.set(root, p);
    }
    return p;
  }

  static async #open(options: BtrfsVolumeOptions): Promise<BtrfsVolume> {
    const root = options.mountpoint;
    await Deno.mkdir(root, { recursive: true });
    const mounted = await mountAt(root);
    if (mounted && mounted.fstype !== "btrfs") {
      throw new VolumeError(`${root} is a ${mounted.fstype} mount, not btrfs`);
    }
    if (!mounted) {
      for await (const _ of Deno.readDir(root)) {
        throw new VolumeError(
          `${root} is not empty; a quota volume would hide what is there`,
        );
      }
      if (!await exists(options.image)) {
        await makeImage(
          options.image,
          Math.max(MIN_SIZE, options.sizeBytes ?? 64 * 2 ** 30),
        );
      }
      await exec("mount", [
        "-o",
        "loop,noatime,discard=async",
        options.image,
        root,
      ]);
    }
    await exec("btrfs", ["quota", "enable", root]);
    return new BtrfsVolume(root, options.image);
  }

  #path(name: string): string {
    return `${this.root}/${checkDirName(name)}`;
  }

  async create(name: string, limitBytes: number | null): Promise<string> {
    const path = this.#path(name);
    await exec("btrfs", ["subvolume", "create", path]);
    try {
      if (limitBytes !== null) await this.setLimit(name, limitBytes);
    } catch (e) {
      await this.remove(name).catch(() => undefined);
      throw e;
    }
    return path;
  }

  async setLimit(name: string, limitBytes: number | null): Promise<void> {
    const limit = limitBytes === null
      ? "none"
      : String(Math.max(4096, Math.floor(limitBytes)));
    await exec("btrfs", ["qgroup", "limit", limit, this.#path(name)]);
  }

  async usage(
    name: string,
    options: { sync?: boolean } = {},
  ): Promise<DirUsage> {
    checkDirName(name);
    const all = await this.usageAll(options);
    const u = all.get(name);
    if (!u) throw new VolumeError(`no quota dir ${name} in ${this.root}`);
    return u;
  }

  async usageAll(
    options: { sync?: boolean } = {},
  ): Promise<Map<string, DirUsage>> {
    const args = ["qgroup", "show", "-re", "--raw"];
    if (options.sync) args.push("--sync");
    return parseQgroupShow(await exec("btrfs", [...args, this.root]));
  }

  async remove(name: string): Promise<void> {
    const path = this.#path(name);
    if (!await exists(path)) return;
    try {
      await exec("btrfs", ["subvolume", "delete", path]);
    } catch (e) {
      // Not a subvolume (made by hand, or before quotas): a plain delete.
      if (!(e instanceof VolumeError)) throw e;
      await Deno.remove(path, { recursive: true });
    }
  }

  async has(name: string): Promise<boolean> {
    return await exists(this.#path(name));
  }

  async capacity(): Promise<VolumeCapacity> {
    return await dfCapacity(this.root);
  }

  /** Unmounts the volume (its image stays; a later open mounts it again). */
  async unmount(): Promise<void> {
    await exec("umount", [this.root]);
  }
}

/**
 * Parses `btrfs qgroup show -re --raw` (btrfs-progs 6.x): one row per
 * qgroup, the subvolume's path last; `<toplevel>` and `<stale>` rows
 * (deleted subvolumes) are skipped.
 *
 * @example
 * ```ts
 * import { parseQgroupShow } from "./btrfs.ts";
 * const m = parseQgroupShow(
 *   "Qgroupid Referenced Exclusive Max referenced Max exclusive Path\n" +
 *     "0/256 10469376 10469376 1073741824 none f1\n",
 * );
 * if (m.get("f1")?.limitBytes !== 1073741824) throw new Error();
 * ```
 */
export function parseQgroupShow(text: string): Map<string, DirUsage> {
  const out = new Map<string, DirUsage>();
  for (const line of text.split("\n")) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 6 || !/^0\/\d+$/.test(cols[0])) continue;
    const path = cols.slice(5).join(" ");
    if (path.startsWith("<")) continue;
    const used = Number(cols[1]);
    const max = cols[3] === "none" ? null : Number(cols[3]);
    out.set(path.split("/").pop()!, {
      usedBytes: Number.isFinite(used) ? used : 0,
      limitBytes: max !== null && Number.isFinite(max) ? max : null,
    });
  }
  return out;
}

/** Total and available bytes of the filesystem holding `path` (`df`). */
export async function dfCapacity(path: string): Promise<VolumeCapacity> {
  const out = await exec("df", ["-B1", "--output=size,avail", path]);
  const [size, avail] = out.trim().split("\n").pop()!.trim().split(/\s+/)
    .map(Number);
  return { totalBytes: size || 0, freeBytes: avail || 0 };
}

async function makeImage(image: string, size: number): Promise<void> {
  await Deno.mkdir(dirname(image), { recursive: true });
  const tmp = `${image}.tmp`;
  const f = await Deno.open(tmp, { create: true, write: true, truncate: true });
  try {
    await f.truncate(size); // sparse: takes no space until written
  } finally {
    f.close();
  }
  await exec("mkfs.btrfs", ["-q", "-f", tmp]);
  await Deno.rename(tmp, image);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}
