/**
 * Agent container-layer benchmark (real Docker, TEST STUB runner image
 * unless AGENT_TEST_IMAGE is set). stdout: only `BENCH <name> <value>` lines.
 *   kernel.frame_rtt_p50_us           ping→ok round trip over attached stdio
 *   container.create_start_ready_p50_ms  create+attach+start+ready (cold)
 *   pool.take_p50_ms                  take of a warm container (record file included)
 *   pool.take_resized_p50_ms          the same at another size (limits set on take)
 */
import { agentTestEnv } from "../fixtures/agent_docker.ts";
import { WarmPool } from "../../actors/agent/pool/mod.ts";

const MiB = 2 ** 20;
const slots = { cpu: 1, mem: 128 * MiB };

function p50(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

await using env = await agentTestEnv();

console.error("cold launches ...");
const cold: number[] = [];
for (let i = 0; i < 7; i++) {
  const t = performance.now();
  const k = await env.launcher.launch({
    image: env.image,
    kernelId: `bench-${i}`,
    sessionId: "bench",
    slots,
  });
  cold.push(performance.now() - t);
  if (i === 0) {
    console.error("frame round trips ...");
    for (let j = 0; j < 200; j++) await k.connection.ping(); // warm-up
    const rtt: number[] = [];
    for (let j = 0; j < 2000; j++) {
      const t0 = performance.now();
      await k.connection.ping();
      rtt.push((performance.now() - t0) * 1000);
    }
    console.log(`BENCH kernel.frame_rtt_p50_us ${p50(rtt).toFixed(1)}`);
  }
  await env.launcher.destroy(k);
}
console.log(
  `BENCH container.create_start_ready_p50_ms ${p50(cold).toFixed(1)}`,
);

console.error("pool takes ...");
const pool = new WarmPool({
  launcher: env.launcher,
  targets: { [env.image]: 2 },
  slots,
  budget: 1024 * MiB,
});
pool.start();
const takes = async (size: typeof slots) => {
  const xs: number[] = [];
  for (let i = 0; i < 7; i++) {
    await pool.settled();
    const t = performance.now();
    const k = await pool.take(env.image, size, {
      kernelId: `bench-pool-${i}`,
      sessionId: "bench",
    });
    xs.push(performance.now() - t);
    if (!k) throw new Error("pool was empty");
    await env.launcher.destroy(k);
  }
  return p50(xs);
};
console.log(`BENCH pool.take_p50_ms ${(await takes(slots)).toFixed(2)}`);
console.log(
  `BENCH pool.take_resized_p50_ms ${
    (await takes({ cpu: 0.5, mem: 512 * MiB })).toFixed(2)
  }`,
);
await pool.close();
