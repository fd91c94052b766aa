/**
 * Sustained session creation through the public API on a real cluster
 * (manager + one agent process with its warm pool, real Docker, the python
 * image). stdout: only `BENCH` lines.
 *   session.create_per_s_sustained   creates per second held for
 *                                    BENCH_SUSTAIN_S (60) seconds, each
 *                                    session destroyed right behind its
 *                                    create (BENCH_WORKERS (8) clients,
 *                                    each create → RUNNING → destroy)
 *   session.create_cpu_ms            machine CPU (all processes, /proc/stat)
 *                                    per create + destroy in that time
 *
 * Run: deno run -A tests/bench/create_rate.ts
 */
import { startCluster } from "../support/cluster.ts";
import { quantile, unlimitedKeypair } from "./_scale.ts";

const SECONDS = Number(Deno.env.get("BENCH_SUSTAIN_S") ?? 60);
const WORKERS = Number(Deno.env.get("BENCH_WORKERS") ?? 8);
const log = (s: string) => console.error(`create rate: ${s}`);

/** Busy and total jiffies of the whole machine. */
async function machineCpu(): Promise<{ busy: number; all: number }> {
  const f = (await Deno.readTextFile("/proc/stat")).split("\n")[0].split(/\s+/)
    .slice(1).map(Number);
  return {
    busy: f[0] + f[1] + f[2] + f[5] + f[6],
    all: f.reduce((a, b) => a + b, 0),
  };
}

const c = await startCluster({
  agents: 1,
  poolSize: 1,
  agentArgs: () => ["--cpu", "64", "--mem", String(64 * 2 ** 30)],
});
try {
  const kp = await unlimitedKeypair(c);
  let n = 0;
  let failed = 0;
  const latencies: number[] = [];
  const cycle = async (name: string) => {
    const t = performance.now();
    const r = await c.api("POST", "/session", {
      image: "python",
      name,
      config: { resources: { mem: "256m" } },
    }, kp);
    const body = await r.json();
    if (body.status !== "RUNNING") {
      failed++;
      log(`${name}: ${r.status} ${JSON.stringify(body).slice(0, 200)}`);
      return false;
    }
    latencies.push(performance.now() - t);
    await (await c.api("DELETE", `/session/${name}`, undefined, kp)).body
      ?.cancel();
    return true;
  };
  // Warm-up: JIT, connections, the pool learning the demand.
  await Promise.all(
    Array.from({ length: WORKERS }, async (_, w) => {
      for (let i = 0; i < 3; i++) await cycle(`warm-${w}-${i}`);
    }),
  );
  const cpu0 = await machineCpu();
  const t0 = performance.now();
  const end = t0 + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: WORKERS }, async (_, w) => {
      for (let i = 0; performance.now() < end; i++) {
        if (await cycle(`s-${w}-${i}`)) n++;
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  const cpu1 = await machineCpu();
  const perS = n / secs;
  log(
    `${n} creates in ${secs.toFixed(1)} s (${failed} failed), create p50 ${
      quantile(latencies, 0.5).toFixed(0)
    } ms, p90 ${quantile(latencies, 0.9).toFixed(0)} ms`,
  );
  console.log(`BENCH session.create_per_s_sustained ${perS.toFixed(1)}`);
  // jiffies are 10 ms
  console.log(
    `BENCH session.create_cpu_ms ${
      ((cpu1.busy - cpu0.busy) * 10 / Math.max(1, n)).toFixed(0)
    }`,
  );
} finally {
  await c.stop();
}
