/**
 * The cost of filesystem-enforced quotas (actors/storage/volume), against
 * the alternatives:
 *
 * - `storage.quota_dir_create_p50_ms`: a folder on the btrfs quota volume
 *   (subvolume + qgroup limit), what the storage node and agents do.
 * - `storage.loop_image_create_p50_ms`: a loop-mounted ext4 image per
 *   folder (truncate + mkfs.ext4 + mount), the alternative not chosen.
 * - `storage.write_mb_s.{plain,btrfs_quota,ext4_loop}`: 128 MiB written
 *   with fsync into a plain dir of the host's disk, a btrfs quota dir, an
 *   ext4 loop image.
 *
 * Needs root and btrfs-progs; prints nothing and exits 0 without them.
 *
 * @module
 */

import { BtrfsVolume } from "../../actors/storage/volume/btrfs.ts";
import { exec } from "../../actors/storage/volume/exec.ts";

if (Deno.uid() !== 0) {
  console.error("storage_quota bench: needs root; skipped");
  Deno.exit(0);
}
try {
  await exec("mkfs.btrfs", ["--version"]);
} catch {
  console.error("storage_quota bench: needs btrfs-progs; skipped");
  Deno.exit(0);
}

const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

async function writeRate(path: string, mib = 128): Promise<number> {
  const chunk = new Uint8Array(1 << 20).fill(42);
  const t0 = performance.now();
  const f = await Deno.open(path, {
    create: true,
    write: true,
    truncate: true,
  });
  for (let i = 0; i < mib; i++) await f.write(chunk);
  await f.syncData();
  f.close();
  const s = (performance.now() - t0) / 1000;
  await Deno.remove(path);
  return mib * 1.048576 / s;
}

const dir = await Deno.makeTempDir({ prefix: "bai-bench-quota-" });
const vol = await BtrfsVolume.open({
  image: `${dir}/vol.img`,
  mountpoint: `${dir}/vol`,
  sizeBytes: 4 << 30,
});
const loops: string[] = [];
try {
  const create: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    await vol.create(`f${i}`, 1 << 30);
    create.push(performance.now() - t0);
  }
  console.log(
    `BENCH storage.quota_dir_create_p50_ms ${p50(create).toFixed(1)}`,
  );

  const loop: number[] = [];
  for (let i = 0; i < 5; i++) {
    const img = `${dir}/e${i}.img`;
    const mnt = `${dir}/e${i}`;
    const t0 = performance.now();
    const f = await Deno.open(img, { create: true, write: true });
    await f.truncate(1 << 30);
    f.close();
    await exec("mkfs.ext4", ["-q", "-F", img]);
    await Deno.mkdir(mnt);
    await exec("mount", ["-o", "loop", img, mnt]);
    loop.push(performance.now() - t0);
    loops.push(mnt);
  }
  console.log(`BENCH storage.loop_image_create_p50_ms ${p50(loop).toFixed(1)}`);

  const plain = `${dir}/plain`;
  await Deno.mkdir(plain);
  // Best of three: the VM's disk is shared, single runs vary a lot.
  const best = async (p: string) =>
    Math.max(await writeRate(p), await writeRate(p), await writeRate(p));
  console.log(
    `BENCH storage.write_mb_s.plain ${(await best(`${plain}/x`)).toFixed(0)}`,
  );
  console.log(
    `BENCH storage.write_mb_s.btrfs_quota ${
      (await best(`${vol.root}/f0/x`)).toFixed(0)
    }`,
  );
  console.log(
    `BENCH storage.write_mb_s.ext4_loop ${
      (await best(`${loops[0]}/x`)).toFixed(0)
    }`,
  );
} finally {
  for (const m of loops) await exec("umount", [m]).catch(() => undefined);
  await vol.unmount().catch(() => undefined);
  await Deno.remove(dir, { recursive: true });
}
