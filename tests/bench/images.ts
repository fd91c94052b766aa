/**
 * Kernel image benchmarks (python image, hardened container):
 * container start → `ready`, `ping` round trip, and a `print` query round
 * trip through the runner. Prints `BENCH <name> <value>` lines.
 */
import { ensureImage } from "../../images/build.ts";
import { hardenedRunArgs, KernelClient } from "../fixtures/images_client.ts";

const median = (xs: number[]) =>
  xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const info = await ensureImage("python", {
  onProgress: (e) => console.error(`[${e.image}] ${e.message}`),
});
console.log(`BENCH images.python_size_mb ${(info.sizeBytes / 1e6).toFixed(1)}`);

const t0 = performance.now();
const { client } = await KernelClient.start(
  "docker",
  hardenedRunArgs(info.ref),
);
console.log(
  `BENCH images.python_start_to_ready_ms ${
    (performance.now() - t0).toFixed(1)
  }`,
);
try {
  const pings: number[] = [];
  for (let i = 0; i < 200; i++) {
    const s = performance.now();
    await client.request({ op: "ping" });
    pings.push(performance.now() - s);
  }
  console.log(`BENCH images.ping_rtt_ms_p50 ${median(pings).toFixed(3)}`);
  const runs: number[] = [];
  for (let i = 0; i < 100; i++) {
    const s = performance.now();
    await client.exec("query", "print(1)");
    runs.push(performance.now() - s);
  }
  console.log(
    `BENCH images.python_query_rtt_ms_p50 ${median(runs).toFixed(3)}`,
  );
} finally {
  await client.close();
}
