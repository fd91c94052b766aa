/**
 * Query round trip through the manager's public API on a real cluster
 * (manager + one agent process, real Docker). stdout: only `BENCH` lines.
 *   exec.query_rtt_p50_ms  signed `POST /session/{name}` query `print(1)` in
 *                          a running Python session → its `finished` reply
 *   exec.query_rtt_p90_ms  the same, 90th percentile
 *
 * One session; 20 warm-up runs (JIT, connections, the interpreter's first
 * import), then BENCH_SAMPLES (200) runs one after another.
 *
 * Run: deno run -A tests/bench/exec.ts
 */
import { startCluster } from "../support/cluster.ts";

const SAMPLES = Number(Deno.env.get("BENCH_SAMPLES") ?? 200);
const WARMUP = 20;

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))];
}

const c = await startCluster({ agents: 1 });
try {
  const created = await c.json<{ status: string }>("POST", "/session", {
    image: "python",
    name: "bench-exec",
  });
  if (created.status !== "RUNNING") {
    throw new Error(`session is ${created.status}`);
  }
  const once = async (): Promise<number> => {
    const t = performance.now();
    const res = await c.json<
      { result: { status: string; console: [string, string][] } }
    >("POST", "/session/bench-exec", {
      mode: "query",
      code: "print(1)",
      runId: null,
    });
    const ms = performance.now() - t;
    if (
      res.result.status !== "finished" || res.result.console[0]?.[1] !== "1\n"
    ) {
      throw new Error(`unexpected result ${JSON.stringify(res)}`);
    }
    return ms;
  };
  for (let i = 0; i < WARMUP; i++) await once();
  const xs: number[] = [];
  for (let i = 0; i < SAMPLES; i++) xs.push(await once());
  console.error(
    `exec: ${SAMPLES} queries, min ${Math.min(...xs).toFixed(1)} ms, max ${
      Math.max(...xs).toFixed(1)
    } ms`,
  );
  console.log(`BENCH exec.query_rtt_p50_ms ${pct(xs, 0.5).toFixed(1)}`);
  console.log(`BENCH exec.query_rtt_p90_ms ${pct(xs, 0.9).toFixed(1)}`);
} finally {
  await c.stop();
}
