import assert from "node:assert/strict";
import {
  discoverGpus,
  GpuAllocationError,
  GpuAllocator,
  GpuDiscoveryError,
  parseNvidiaSmiCsv,
} from "./mod.ts";

// No GPU exists on the test machines: discovery runs a FAKE nvidia-smi
// (tests/fixtures/agent_fake_nvidia_smi.sh) that prints a 2-GPU host.
const FAKE =
  new URL("../../../tests/fixtures/agent_fake_nvidia_smi.sh", import.meta.url)
    .pathname;

Deno.test("parse nvidia-smi CSV (names may contain commas)", () => {
  assert.deepEqual(parseNvidiaSmiCsv("0, GPU-a, Tesla, V100, 16160\n\n"), [
    { index: 0, uuid: "GPU-a", name: "Tesla, V100", memoryMiB: 16160 },
  ]);
  assert.throws(() => parseNvidiaSmiCsv("garbage"), GpuDiscoveryError);
});

Deno.test("discovery through the fake nvidia-smi; absent binary means no GPUs", async () => {
  const gpus = await discoverGpus({ nvidiaSmiPath: FAKE });
  assert.equal(gpus.length, 2);
  assert.equal(gpus[1].uuid, "GPU-66666666-7777-8888-9999-000000000000");
  assert.equal(gpus[0].memoryMiB, 81559);
  assert.deepEqual(
    await discoverGpus({ nvidiaSmiPath: "/nonexistent/nvidia-smi" }),
    [],
  );
});

Deno.test("allocator gives whole devices, never one device to two kernels", () => {
  const a = new GpuAllocator([
    { index: 1, uuid: "B", name: "x", memoryMiB: 1 },
    { index: 0, uuid: "A", name: "x", memoryMiB: 1 },
    { index: 2, uuid: "C", name: "x", memoryMiB: 1 },
  ]);
  assert.equal(a.capacity, 3);
  assert.deepEqual(a.allocate("k1", 2), ["A", "B"]);
  assert.throws(() => a.allocate("k2", 2), GpuAllocationError);
  assert.equal(a.free, 1, "a failed request grants nothing");
  assert.deepEqual(a.allocate("k2", 1), ["C"]);
  assert.deepEqual(a.allocate("k3", 0), []);
  a.release("k1");
  assert.equal(a.free, 2);
  assert.deepEqual(a.allocate("k3", 2), ["A", "B"]);
  assert.deepEqual(new Set([...a.heldBy("k2"), ...a.heldBy("k3")]).size, 3);
  a.release("unknown");
  assert.throws(() => a.allocate("k4", -1), RangeError);
});
