/**
 * Whether this machine can make the btrfs quota volumes folders and kernel
 * scratch dirs live on (actors/storage/volume): root, btrfs-progs, a loop
 * device, the btrfs module, and quota groups. Tests that need them skip
 * with the reason when any is missing (a CI container without loop
 * devices, a kernel without btrfs), instead of failing on the fallback.
 *
 * @module
 */

let probed: Promise<string | undefined> | undefined;

/** Undefined when quota volumes work here, else why not. */
export function quotaVolumesMissing(): Promise<string | undefined> {
  probed ??= probe();
  return probed;
}

async function run(cmd: string, args: string[]): Promise<boolean> {
  try {
    const out = await new Deno.Command(cmd, {
      args,
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success;
  } catch {
    return false;
  }
}

async function probe(): Promise<string | undefined> {
  if (Deno.uid() !== 0) return "needs root (loop-mounted quota volumes)";
  if (!(await run("mkfs.btrfs", ["--version"]))) {
    return "needs btrfs-progs (apt-get install btrfs-progs)";
  }
  const dir = await Deno.makeTempDir({ prefix: "bai-quota-probe-" });
  const img = `${dir}/probe.img`;
  const mnt = `${dir}/mnt`;
  try {
    await Deno.mkdir(mnt);
    const f = await Deno.open(img, { create: true, write: true });
    await f.truncate(128 << 20);
    f.close();
    if (!(await run("mkfs.btrfs", ["-q", img]))) return "mkfs.btrfs failed";
    if (!(await run("mount", ["-o", "loop", img, mnt]))) {
      return "cannot loop-mount a btrfs image here (no loop device or no btrfs module)";
    }
    const quota = await run("btrfs", ["quota", "enable", mnt]);
    await run("umount", [mnt]);
    return quota ? undefined : "btrfs quota groups are not available";
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => undefined);
  }
}
