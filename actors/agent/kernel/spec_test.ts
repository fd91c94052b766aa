import assert from "node:assert/strict";
import {
  buildContainerSpec,
  KernelSpecError,
  type KernelSpecInput,
} from "./spec.ts";

const base: KernelSpecInput = {
  image: "bai/python:3.11",
  kernelId: "k1",
  sessionId: "s1",
  agentId: "a1",
  owner: "AKIA",
  slots: { cpu: 1.5, mem: 512 * 2 ** 20 },
  workDir: "/data/kernels/k1/work",
  mounts: [{
    hostPath: "/vf/u1/data",
    containerPath: "/home/work/data",
    readOnly: true,
  }],
  environ: { FOO: "bar" },
};

Deno.test("spec: hardened defaults", () => {
  const b = buildContainerSpec(base);
  // deno-lint-ignore no-explicit-any
  const h = b.HostConfig as any;
  assert.equal(h.NetworkMode, "none");
  assert.deepEqual(h.CapDrop, ["ALL"]);
  assert.deepEqual(h.SecurityOpt, ["no-new-privileges"]);
  assert.equal(h.PidsLimit, 256);
  assert.equal(h.ReadonlyRootfs, true);
  assert.deepEqual(h.Tmpfs, { "/tmp": "rw,nosuid,nodev,size=64m" });
  assert.equal(h.Memory, 512 * 2 ** 20);
  assert.equal(h.MemorySwap, h.Memory);
  assert.equal(h.NanoCpus, 1_500_000_000);
  assert.equal(h.Init, false); // the runner's init is pid 1
  assert.deepEqual(h.Binds, [
    "/data/kernels/k1/work:/home/work:rw",
    "/vf/u1/data:/home/work/data:ro",
  ]);
  assert.equal(h.DeviceRequests, undefined);
  assert.equal(b.User, "1000:1000");
  assert.equal(b.Tty, false);
  assert.equal(b.OpenStdin, true);
  assert.equal(b.StdinOnce, false);
  assert.ok(b.AttachStdin && b.AttachStdout && b.AttachStderr);
  assert.deepEqual(b.Labels, {
    "ai.backend.agent-id": "a1",
    "ai.backend.kernel-id": "k1",
    "ai.backend.session-id": "s1",
    "ai.backend.owner": "AKIA",
  });
  assert.ok((b.Env as string[]).includes("FOO=bar"));
  assert.ok(
    !(b.Env as string[]).some((e) => e.startsWith("CUDA_VISIBLE_DEVICES")),
  );
});

Deno.test("spec: GPUs become a DeviceRequest and CUDA_VISIBLE_DEVICES", () => {
  const b = buildContainerSpec({
    ...base,
    slots: { ...base.slots, "cuda.device": 2 },
    gpuIds: ["GPU-a", "GPU-b"],
  });
  // deno-lint-ignore no-explicit-any
  assert.deepEqual((b.HostConfig as any).DeviceRequests, [
    {
      Driver: "nvidia",
      DeviceIDs: ["GPU-a", "GPU-b"],
      Capabilities: [["gpu"]],
    },
  ]);
  assert.ok((b.Env as string[]).includes("CUDA_VISIBLE_DEVICES=GPU-a,GPU-b"));
  assert.throws(
    () =>
      buildContainerSpec({
        ...base,
        slots: { ...base.slots, "cuda.device": 1 },
      }),
    KernelSpecError,
  );
});

Deno.test("spec: refuses mounts over system dirs or the work dir, and bad slots", () => {
  for (
    const target of [
      "/",
      "/etc",
      "/usr/lib",
      "/home/work",
      "/proc/x",
      "rel",
      "/a/../etc",
    ]
  ) {
    assert.throws(
      () =>
        buildContainerSpec({
          ...base,
          mounts: [{ hostPath: "/x", containerPath: target }],
        }),
      KernelSpecError,
      target,
    );
  }
  assert.throws(
    () => buildContainerSpec({ ...base, slots: { cpu: 0, mem: 2 ** 30 } }),
    KernelSpecError,
  );
  assert.throws(
    () => buildContainerSpec({ ...base, slots: { cpu: 1, mem: 1024 } }),
    KernelSpecError,
  );
});

Deno.test("spec: pool containers carry no kernel/session labels; seccomp profile passes inline", () => {
  const b = buildContainerSpec({
    ...base,
    kernelId: null,
    sessionId: null,
    owner: undefined,
    labels: { "ai.backend.pool": "img" },
    seccompProfile: '{"defaultAction":"SCMP_ACT_ALLOW"}',
  });
  assert.deepEqual(b.Labels, {
    "ai.backend.agent-id": "a1",
    "ai.backend.pool": "img",
  });
  // deno-lint-ignore no-explicit-any
  assert.deepEqual((b.HostConfig as any).SecurityOpt, [
    "no-new-privileges",
    'seccomp={"defaultAction":"SCMP_ACT_ALLOW"}',
  ]);
});
