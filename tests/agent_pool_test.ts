/** Warm pool against the real engine (TEST STUB runner image unless AGENT_TEST_IMAGE). */
import assert from "node:assert/strict";
import { LABELS, readKernelRecord } from "../actors/agent/kernel/mod.ts";
import { WarmPool } from "../actors/agent/pool/mod.ts";
import {
  agentTestEnv,
  dockerSkipReason,
  runCode,
} from "./fixtures/agent_docker.ts";

const MiB = 2 ** 20;
const slots = { cpu: 1, mem: 128 * MiB };

Deno.test({
  name: "agent pool: fill, take, refill, capacity bound, shrink, close",
  ignore: dockerSkipReason !== null,
}, async () => {
  await using env = await agentTestEnv();
  const errors: unknown[] = [];
  const pool = new WarmPool({
    launcher: env.launcher,
    targets: { [env.image]: 3 },
    slots,
    capacity: { cpu: 2, mem: 1024 * MiB }, // room for only 2 of the 3 wanted
    onError: (_i, e) => errors.push(e),
  });
  try {
    pool.start();
    await pool.settled();
    assert.equal(
      pool.size(env.image),
      2,
      "capacity bounds the pool below its target",
    );
    const poolContainers = () =>
      env.docker.listContainers({
        labels: { [LABELS.pool]: env.image, [LABELS.agentId]: env.agentId },
      });
    assert.equal((await poolContainers()).length, 2);

    assert.equal(
      await pool.take(env.image, { cpu: 2, mem: 128 * MiB }, {
        kernelId: "x",
        sessionId: "y",
      }),
      null,
      "slots must match",
    );
    assert.equal(
      await pool.take("other:image", slots, { kernelId: "x", sessionId: "y" }),
      null,
    );

    const k = await pool.take(env.image, slots, {
      kernelId: "k-pool",
      sessionId: "s-pool",
      owner: "AK",
    });
    assert.ok(k);
    assert.equal(
      (await runCode(k.connection, "print('warm')")).stdout,
      "warm\n",
    );
    const rec = await readKernelRecord(k.dirs);
    assert.equal(rec?.kernelId, "k-pool");
    assert.equal(rec?.containerId, k.containerId);

    await pool.settled();
    assert.equal(pool.size(env.image), 2, "refilled in the background");
    assert.ok(pool.held.cpu <= 2);

    const freed = await pool.shrink({ cpu: 1, mem: 0 });
    assert.equal(freed.cpu, 1);
    assert.equal(pool.size(env.image), 1);
    await pool.settled();
    assert.equal(
      pool.size(env.image),
      1,
      "not refilled above the lowered capacity",
    );

    await env.launcher.destroy(k);
    await pool.close();
    assert.equal(pool.size(), 0);
    assert.equal(
      (await poolContainers()).length,
      0,
      "close removed every pool container",
    );
    assert.deepEqual(errors, []);
  } finally {
    await pool.close();
  }
});
