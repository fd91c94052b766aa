import assert from "node:assert/strict";
import { cgroupWrites, updateBody } from "./resize.ts";

const MiB = 2 ** 20;
const dir = (c: string) => `/cg/${c}`;

Deno.test("resize: the engine update sets memory without swap, cpu and pids", () => {
  assert.deepEqual(updateBody({ cpu: 0.5, mem: 512 * MiB, pids: 256 }), {
    Memory: 512 * MiB,
    MemorySwap: 512 * MiB,
    NanoCpus: 5e8,
    PidsLimit: 256,
  });
});

Deno.test("resize: growing raises the swap limit first, shrinking lowers memory first", () => {
  const grow = cgroupWrites(dir, { mem: 256 * MiB }, {
    cpu: 2,
    mem: 1024 * MiB,
    pids: 256,
  });
  assert.deepEqual(grow.map((w) => w.path), [
    "/cg/memory/memory.memsw.limit_in_bytes",
    "/cg/memory/memory.limit_in_bytes",
    "/cg/cpu/cpu.cfs_period_us",
    "/cg/cpu/cpu.cfs_quota_us",
    "/cg/pids/pids.max",
  ]);
  assert.deepEqual(grow.map((w) => w.value), [
    String(1024 * MiB),
    String(1024 * MiB),
    "100000",
    "200000",
    "256",
  ]);
  const shrink = cgroupWrites(dir, { mem: 1024 * MiB }, {
    cpu: 0.25,
    mem: 256 * MiB,
    pids: 64,
  });
  assert.deepEqual(shrink.slice(0, 2).map((w) => w.path), [
    "/cg/memory/memory.limit_in_bytes",
    "/cg/memory/memory.memsw.limit_in_bytes",
  ]);
  assert.equal(shrink[3].value, "25000");
  assert.equal(shrink[4].value, "64");
});
