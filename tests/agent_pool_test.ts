/**
 * Warm pool against the real engine (the python kernel image when built,
 * else the TEST STUB runner image; AGENT_TEST_IMAGE picks): fill, take at
 * any size (the limits read back from inside the container's own cgroup),
 * refill by demand, the memory budget, close.
 */
import assert from "node:assert/strict";
import { LABELS, readKernelRecord } from "../actors/agent/kernel/mod.ts";
import { WarmPool } from "../actors/agent/pool/mod.ts";
import {
  agentTestEnv,
  dockerSkipReason,
  runCode,
} from "./fixtures/agent_docker.ts";

const MiB = 2 ** 20;
const slots = { cpu: 1, mem: 1024 * MiB };

/** The limits the container's processes are under, read from inside it. */
const READ_LIMITS = `
def r(p):
    return open("/sys/fs/cgroup/" + p).read().strip()
print(r("memory/memory.limit_in_bytes"), r("memory/memory.memsw.limit_in_bytes"),
      r("cpu/cpu.cfs_quota_us"), r("cpu/cpu.cfs_period_us"), r("pids/pids.max"))
`;

Deno.test({
  name:
    "agent pool: a take at any size gets exactly its limits, refill, budget, close",
  ignore: dockerSkipReason !== null,
}, async () => {
  await using env = await agentTestEnv();
  const errors: unknown[] = [];
  const pool = new WarmPool({
    launcher: env.launcher,
    targets: { [env.image]: 2 },
    slots,
    budget: 4096 * MiB,
    onError: (_i, e) => errors.push(e),
  });
  const taken: Awaited<ReturnType<typeof pool.take>>[] = [];
  try {
    pool.start();
    await pool.settled();
    assert.equal(pool.size(env.image), 2, "filled to the floor");
    const poolContainers = () =>
      env.docker.listContainers({
        labels: { [LABELS.pool]: env.image, [LABELS.agentId]: env.agentId },
      });
    assert.equal((await poolContainers()).length, 2);
    assert.equal(
      await pool.take("other:image", slots, { kernelId: "x", sessionId: "y" }),
      null,
      "an image the pool has none of: launch cold",
    );
    assert.equal(
      await pool.take(env.image, { ...slots, "cuda.device": 1 }, {
        kernelId: "x",
        sessionId: "y",
      }),
      null,
      "GPUs cannot be added to a running container",
    );

    const sizes = [
      { cpu: 0.5, mem: 256 * MiB }, // smaller than the pool's slots
      { cpu: 2, mem: 1536 * MiB }, // larger: swap limit raised first
      { cpu: 1, mem: 1024 * MiB }, // the pool's own size: no resize
    ];
    for (const [i, size] of sizes.entries()) {
      await pool.settled();
      const k = await pool.take(env.image, size, {
        kernelId: `k-pool-${i}`,
        sessionId: `s-pool-${i}`,
      });
      assert.ok(k, `a warm container for ${JSON.stringify(size)}`);
      taken.push(k);
      const out = await runCode(k.connection, READ_LIMITS);
      assert.equal(
        out.stdout.trim(),
        [size.mem, size.mem, size.cpu * 100_000, 100_000, 256].join(" "),
        `limits inside the container for ${JSON.stringify(size)}`,
      );
      const rec = await readKernelRecord(k.dirs);
      assert.equal(rec?.kernelId, `k-pool-${i}`);
      assert.equal(rec?.containerId, k.containerId);
      assert.equal(rec?.fromPool, true);
    }
    // The engine's own record follows (updated in the background).
    const last = taken[1]!;
    let host: Record<string, unknown> = {};
    for (let i = 0; i < 50; i++) {
      host = (await env.docker.inspectContainer(last.containerId))
        .HostConfig ?? {};
      if (host.Memory === 1536 * MiB) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(host.Memory, 1536 * MiB);
    assert.equal(host.MemorySwap, 1536 * MiB);
    assert.equal(host.NanoCpus, 2e9);

    // A take that left stock refills a little later (refillDelayMs), so
    // containers of ended sessions can come back first.
    for (let i = 0; i < 100 && pool.size(env.image) < 2; i++) {
      await new Promise((r) => setTimeout(r, 50));
      await pool.settled();
    }
    assert.ok(pool.size(env.image) >= 2, "refilled in the background");
    assert.ok(
      (pool.targets()[env.image] ?? 0) >= 2,
      "three takes in the window: at least the floor is wanted",
    );

    await pool.setBudget(1); // smaller than any container
    assert.equal(pool.size(env.image), 0, "a budget that fits none trims all");
    await pool.settled();
    assert.equal(pool.size(env.image), 0, "and none is launched again");
    assert.equal(pool.heldBytes, 0);

    for (const k of taken.splice(0)) if (k) await env.launcher.destroy(k);
    await pool.close();
    assert.equal(
      (await poolContainers()).length,
      0,
      "close removed every pool container",
    );
    // The one launch for "other:image" (asked for, so tried once) failed.
    assert.deepEqual(
      errors.map((e) => (e as { status?: number }).status),
      [404],
    );
  } finally {
    await pool.close();
    for (const k of taken) if (k) await env.launcher.destroy(k);
  }
});
