import assert from "node:assert/strict";
import { BtrfsVolume, parseQgroupShow } from "./btrfs.ts";
import { hasTool } from "./exec.ts";
import { mountAt } from "./mounts.ts";

const canRun = Deno.uid() === 0 && await hasTool("mkfs.btrfs");
if (!canRun) {
  console.error(
    "btrfs_test: skipped (needs root and btrfs-progs: apt-get install btrfs-progs)",
  );
}

Deno.test("parseQgroupShow skips toplevel and stale rows", () => {
  const m = parseQgroupShow(
    [
      "Qgroupid    Referenced    Exclusive  Max referenced  Max exclusive   Path",
      "--------    ----------    ---------  --------------  -------------   ----",
      "0/5              16384        16384            none           none   <toplevel>",
      "0/256         10469376     10469376      1073741824           none   f1",
      "0/257            16384        16384            none           none   <stale>",
      "0/258            16384        16384            none           none   g2",
    ].join("\n"),
  );
  assert.deepEqual([...m.keys()], ["f1", "g2"]);
  assert.deepEqual(m.get("f1"), {
    usedBytes: 10469376,
    limitBytes: 1073741824,
  });
  assert.equal(m.get("g2")?.limitBytes, null);
});

Deno.test({
  name:
    "btrfs volume: a write past a dir's limit fails with EDQUOT, others unaffected, limit can grow",
  ignore: !canRun,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "bai-vol-" });
    const root = `${dir}/vol`;
    const v = await BtrfsVolume.open({
      image: `${dir}/vol.img`,
      mountpoint: root,
      sizeBytes: 1 << 30,
    });
    try {
      assert.equal((await mountAt(root))?.fstype, "btrfs");
      const a = await v.create("a", 8 << 20);
      const b = await v.create("b", null);
      const big = new Uint8Array(1 << 20).fill(7);
      const f = await Deno.open(`${a}/x`, { create: true, write: true });
      let written = 0;
      let error: unknown;
      try {
        for (let i = 0; i < 16; i++) {
          written += await f.write(big);
          await f.syncData();
        }
      } catch (e) {
        error = e;
      } finally {
        f.close();
      }
      assert.ok(error instanceof Error, "the write past 8 MiB must fail");
      assert.match(String(error), /quota|space/i);
      assert.ok(written <= 8 << 20, `wrote ${written}`);
      // The other dir is not affected.
      await Deno.writeFile(`${b}/y`, new Uint8Array(12 << 20));
      const usage = await v.usageAll({ sync: true });
      assert.equal(usage.get("a")?.limitBytes, 8 << 20);
      assert.ok((usage.get("b")?.usedBytes ?? 0) >= 12 << 20);
      // Raising the limit lets the write go on.
      await v.setLimit("a", 32 << 20);
      await Deno.writeFile(`${a}/z`, new Uint8Array(12 << 20));
      // Reopening finds the mounted volume as it is.
      const again = await BtrfsVolume.open({
        image: `${dir}/vol.img`,
        mountpoint: root,
      });
      assert.ok(await again.has("a"));
      await v.remove("a");
      assert.equal(await v.has("a"), false);
    } finally {
      await v.unmount().catch(() => undefined);
      await Deno.remove(dir, { recursive: true });
    }
  },
});
