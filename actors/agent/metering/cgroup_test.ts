import assert from "node:assert/strict";
import {
  mergeSample,
  parseBlkioServiceBytes,
  parseBytesToKiB,
  parseCpuacctUsage,
  parseEngineStats,
  readCgroupSample,
} from "./cgroup.ts";

Deno.test("cgroup v1 parsers", () => {
  assert.equal(parseCpuacctUsage("28144035\n"), 28.144035);
  assert.equal(parseBytesToKiB("4345856\n"), 4244);
  assert.deepEqual(
    parseBlkioServiceBytes(
      "8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\n8:16 Read 100\n8:0 Total 12288\nTotal 12388\n",
    ),
    { read: 4196, write: 8192 },
  );
  assert.deepEqual(parseBlkioServiceBytes("Total 0\n"), { read: 0, write: 0 });
  assert.throws(() => parseCpuacctUsage("x"));
});

Deno.test("engine stats parser", () => {
  const s = parseEngineStats({
    cpu_stats: { cpu_usage: { total_usage: 2_000_000_000 } },
    memory_stats: { usage: 2048, max_usage: 4096 },
    blkio_stats: {
      io_service_bytes_recursive: [{ op: "Read", value: 10 }, {
        op: "write",
        value: 20,
      }],
    },
  });
  assert.deepEqual(s, {
    cpuMs: 2000,
    memKiB: 2,
    memPeakKiB: 4,
    ioReadBytes: 10,
    ioWriteBytes: 20,
  });
});

Deno.test("merge keeps counters monotonic and peak as max", () => {
  const a = {
    cpuMs: 10,
    memKiB: 500,
    memPeakKiB: 600,
    ioReadBytes: 5,
    ioWriteBytes: 5,
  };
  const b = {
    cpuMs: 20,
    memKiB: 100,
    memPeakKiB: 300,
    ioReadBytes: 7,
    ioWriteBytes: 5,
  };
  assert.deepEqual(mergeSample(a, b), {
    cpuMs: 20,
    memKiB: 100,
    memPeakKiB: 600,
    ioReadBytes: 7,
    ioWriteBytes: 5,
  });
  assert.equal(mergeSample(null, b), b);
});

Deno.test("readCgroupSample reads a cgroup tree and returns null when it is gone", async () => {
  const root = await Deno.makeTempDir();
  try {
    const id = "abc";
    for (
      const [ctl, file, text] of [
        ["cpuacct", "cpuacct.usage", "5000000"],
        ["memory", "memory.usage_in_bytes", "2048"],
        ["memory", "memory.max_usage_in_bytes", "8192"],
        [
          "blkio",
          "blkio.throttle.io_service_bytes",
          "8:0 Read 1\n8:0 Write 2\nTotal 3\n",
        ],
      ]
    ) {
      await Deno.mkdir(`${root}/${ctl}/docker/${id}`, { recursive: true });
      await Deno.writeTextFile(`${root}/${ctl}/docker/${id}/${file}`, text);
    }
    assert.deepEqual(await readCgroupSample(id, root), {
      cpuMs: 5,
      memKiB: 2,
      memPeakKiB: 8,
      ioReadBytes: 1,
      ioWriteBytes: 2,
    });
    assert.equal(await readCgroupSample("gone", root), null);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
