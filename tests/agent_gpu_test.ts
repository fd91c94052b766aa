/**
 * GPU path with NO GPU present: discovery runs the FAKE nvidia-smi
 * (tests/fixtures/agent_fake_nvidia_smi.sh), the allocator hands out its
 * devices, and we assert on the exact create request and on what the real
 * engine recorded for it. Starting such a container needs the NVIDIA
 * runtime, which this machine lacks, so the start is not attempted here.
 */
import assert from "node:assert/strict";
import { discoverGpus, GpuAllocator } from "../actors/agent/gpu/mod.ts";
import {
  buildContainerSpec,
  prepareKernelDirs,
} from "../actors/agent/kernel/mod.ts";
import { agentTestEnv, dockerSkipReason } from "./fixtures/agent_docker.ts";

const FAKE =
  new URL("./fixtures/agent_fake_nvidia_smi.sh", import.meta.url).pathname;

Deno.test({
  name:
    "agent gpu: fake nvidia-smi → allocation → DeviceRequests in the engine's create",
  ignore: dockerSkipReason !== null,
}, async () => {
  await using env = await agentTestEnv();
  const alloc = new GpuAllocator(await discoverGpus({ nvidiaSmiPath: FAKE }));
  assert.equal(alloc.capacity, 2);
  const ids = alloc.allocate("k-gpu", 1);
  assert.deepEqual(ids, ["GPU-11111111-2222-3333-4444-555555555555"]);
  const dirs = await prepareKernelDirs(env.dataDir, "k-gpu");
  const body = buildContainerSpec({
    image: env.image,
    kernelId: "k-gpu",
    sessionId: "s-gpu",
    agentId: env.agentId,
    slots: { cpu: 1, mem: 256 * 2 ** 20, "cuda.device": 1 },
    gpuIds: ids,
    workDir: dirs.work,
  });
  // deno-lint-ignore no-explicit-any
  assert.deepEqual((body.HostConfig as any).DeviceRequests, [
    {
      Driver: "nvidia",
      DeviceIDs: ["GPU-11111111-2222-3333-4444-555555555555"],
      Capabilities: [["gpu"]],
    },
  ]);
  assert.ok(
    (body.Env as string[]).includes(
      "CUDA_VISIBLE_DEVICES=GPU-11111111-2222-3333-4444-555555555555",
    ),
  );
  const id = await env.docker.createContainer(body);
  const info = await env.docker.inspectContainer(id);
  // deno-lint-ignore no-explicit-any
  const dr = (info.HostConfig as any).DeviceRequests;
  assert.equal(dr[0].Driver, "nvidia");
  assert.deepEqual(dr[0].DeviceIDs, ids);
  await env.docker.removeContainer(id, { force: true });
  alloc.release("k-gpu");
  assert.equal(alloc.free, 2);
});
