/**
 * Host-side directories of a kernel under the agent's data dir:
 *
 *     <dataDir>/kernels/<key>/work         bind-mounted at /home/work (uid 1000)
 *     <dataDir>/kernels/<key>/kernel.json  the agent's record (NOT mounted)
 *     <dataDir>/lanes/<hash of key>/       the runner's socket, mounted
 *                                          read-only at /run/bai (lane.ts;
 *                                          short: a socket's path is at
 *                                          most 107 bytes)
 *
 * `key` is the kernel id, or `pool-<uuid>` for a warm-pool container whose
 * identity is only known when it is taken; the record file is then written
 * at take time (container labels cannot change after create).
 *
 * Scratch quota: after {@link enableScratchQuota}, `<dataDir>/kernels` is a
 * quota volume (actors/storage/volume: a loop-mounted btrfs image) and each
 * kernel's dir is a quota dir of its own, so a kernel writing past its
 * limit in /home/work gets EDQUOT and nothing else on the host fills.
 * Removing the dirs removes the quota dir (a btrfs subvolume) with them.
 */

import { openQuotaVolume, type QuotaVolume } from "../../storage/volume/mod.ts";

/** Paths of one kernel's host directories. */
export interface KernelDirs {
  key: string;
  root: string;
  work: string;
  record: string;
  /** Holds the runner protocol's socket (kernel/lane.ts). */
  lane: string;
}

/** The uid/gid the container runs as (spec.ts `User`). */
export const KERNEL_UID = 1000;

/** Paths without touching the disk. */
export function kernelDirs(dataDir: string, key: string): KernelDirs {
  if (!/^[A-Za-z0-9_.-]+$/.test(key) || key.startsWith(".")) {
    throw new Error(`bad kernel dir key: ${key}`);
  }
  const root = `${dataDir.replace(/\/+$/, "")}/kernels/${key}`;
  return {
    key,
    root,
    work: `${root}/work`,
    record: `${root}/kernel.json`,
    lane: `${lanesRoot(dataDir)}/${shortHash(key)}`,
  };
}

/** 64 bits of FNV-1a (two 32-bit lanes) of `s`, hex: a short, stable dir name. */
function shortHash(s: string): string {
  let a = 0x811c9dc5, b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 15);
  }
  return (a >>> 0).toString(16).padStart(8, "0") +
    (b >>> 0).toString(16).padStart(8, "0");
}

/** Scratch quota volumes by their root (`<dataDir>/kernels`). */
const scratch = new Map<
  string,
  { volume: QuotaVolume; defaultBytes: number }
>();

const kernelsRoot = (dataDir: string) =>
  `${dataDir.replace(/\/+$/, "")}/kernels`;

/** Where the kernels' lane dirs are (`<dataDir>/lanes`). */
export const lanesRoot = (dataDir: string): string =>
  `${dataDir.replace(/\/+$/, "")}/lanes`;

/** Options of {@link enableScratchQuota}. */
export interface ScratchQuotaOptions {
  /** Limit of each kernel's dir unless its create names one. */
  defaultBytes: number;
  /** Size of a new volume image (sparse). @default {64 GiB} */
  volumeBytes?: number;
  /** Told when quotas cannot be had here (not root, no btrfs-progs). */
  warn?: (line: string) => void;
}

/**
 * Puts the kernel dirs of `dataDir` on a quota volume (made and mounted at
 * `<dataDir>/kernels` on first use, image `<dataDir>/scratch.img`; found
 * mounted on a restart). Returns whether limits are enforced: without root
 * or btrfs-progs, or with a `kernels/` dir from before, it warns and dirs
 * stay plain.
 */
export async function enableScratchQuota(
  dataDir: string,
  options: ScratchQuotaOptions,
): Promise<boolean> {
  const root = kernelsRoot(dataDir);
  const volume = await openQuotaVolume({
    root,
    image: `${dataDir.replace(/\/+$/, "")}/scratch.img`,
    sizeBytes: options.volumeBytes,
    warn: options.warn,
  });
  if (!volume.enforcesQuota) return false;
  scratch.set(root, { volume, defaultBytes: options.defaultBytes });
  return true;
}

/** The scratch volume holding `dirs`, if quotas are on. */
function scratchOf(dirs: KernelDirs) {
  return scratch.get(dirs.root.slice(0, dirs.root.lastIndexOf("/")));
}

/**
 * Sets the scratch limit of a kernel's dirs (a warm-pool container taken
 * for a keypair whose policy differs from the default). No-op without quotas.
 */
export async function setScratchQuota(
  dirs: KernelDirs,
  bytes: number,
): Promise<void> {
  await scratchOf(dirs)?.volume.setLimit(dirs.key, bytes);
}

/**
 * Creates the dirs; the work dir is owned by uid 1000 so the kernel can
 * write it. With scratch quotas on, the kernel's dir is a quota dir of
 * `quotaBytes` (default: the volume's default).
 */
export async function prepareKernelDirs(
  dataDir: string,
  key: string,
  options: { quotaBytes?: number } = {},
): Promise<KernelDirs> {
  const dirs = kernelDirs(dataDir, key);
  const s = scratch.get(kernelsRoot(dataDir));
  if (s) {
    const bytes = options.quotaBytes ?? s.defaultBytes;
    if (await s.volume.has(key)) await s.volume.setLimit(key, bytes);
    else await s.volume.create(key, bytes);
  }
  await Deno.mkdir(dirs.work, { recursive: true, mode: 0o755 });
  try {
    await Deno.chown(dirs.work, KERNEL_UID, KERNEL_UID);
  } catch (e) {
    // Not root (a developer's laptop): fall back to a world-writable dir.
    if (!(e instanceof Deno.errors.PermissionDenied)) throw e;
    await Deno.chmod(dirs.work, 0o777);
  }
  return dirs;
}

/** Writes the agent's record of who the kernel is. */
export async function writeKernelRecord(
  dirs: KernelDirs,
  record: Record<string, unknown>,
): Promise<void> {
  const tmp = `${dirs.record}.tmp`;
  await Deno.writeTextFile(tmp, JSON.stringify(record, null, 2));
  await Deno.rename(tmp, dirs.record);
}

/** Reads the record, or null when none was written. */
export async function readKernelRecord(
  dirs: KernelDirs,
): Promise<Record<string, unknown> | null> {
  try {
    return JSON.parse(await Deno.readTextFile(dirs.record));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/**
 * Empties the work dir and forgets the record and the scratch limit (back
 * to the default), for a container reset to serve another session
 * (pool/recycle.ts). Only when nothing runs in the container: the agent
 * removes as root, and Deno.remove does not follow the links it removes.
 */
export async function resetKernelDirs(dirs: KernelDirs): Promise<void> {
  await Deno.chmod(dirs.work, 0o755); // a session may have locked itself out
  for await (const e of Deno.readDir(dirs.work)) {
    await Deno.remove(`${dirs.work}/${e.name}`, { recursive: true });
  }
  await Deno.remove(dirs.record).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
  const s = scratchOf(dirs);
  if (s) await s.volume.setLimit(dirs.key, s.defaultBytes);
}

/** Removes the kernel's host dirs (after the container is gone), quota dir included. */
export async function removeKernelDirs(dirs: KernelDirs): Promise<void> {
  await Deno.remove(dirs.lane, { recursive: true }).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
  const s = scratchOf(dirs);
  if (s) return await s.volume.remove(dirs.key);
  await Deno.remove(dirs.root, { recursive: true }).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
}
