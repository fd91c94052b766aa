/**
 * Host-side directories of a kernel under the agent's data dir:
 *
 *     <dataDir>/kernels/<key>/work         bind-mounted at /home/work (uid 1000)
 *     <dataDir>/kernels/<key>/kernel.json  the agent's record (NOT mounted)
 *
 * `key` is the kernel id, or `pool-<uuid>` for a warm-pool container whose
 * identity is only known when it is taken; the record file is then written
 * at take time (container labels cannot change after create).
 */

/** Paths of one kernel's host directories. */
export interface KernelDirs {
  key: string;
  root: string;
  work: string;
  record: string;
}

/** The uid/gid the container runs as (spec.ts `User`). */
export const KERNEL_UID = 1000;

/** Paths without touching the disk. */
export function kernelDirs(dataDir: string, key: string): KernelDirs {
  if (!/^[A-Za-z0-9_.-]+$/.test(key) || key.startsWith(".")) {
    throw new Error(`bad kernel dir key: ${key}`);
  }
  const root = `${dataDir.replace(/\/+$/, "")}/kernels/${key}`;
  return { key, root, work: `${root}/work`, record: `${root}/kernel.json` };
}

/** Creates the dirs; the work dir is owned by uid 1000 so the kernel can write it. */
export async function prepareKernelDirs(
  dataDir: string,
  key: string,
): Promise<KernelDirs> {
  const dirs = kernelDirs(dataDir, key);
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

/** Removes the kernel's host dirs (after the container is gone). */
export async function removeKernelDirs(dirs: KernelDirs): Promise<void> {
  await Deno.remove(dirs.root, { recursive: true }).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
}
