/**
 * Pausing and resuming a session through the public API on a real cluster
 * (manager + one agent process, real Docker). stdout: only `BENCH` lines.
 *   session.suspend_p50_ms  POST /x/session/{ref}/suspend → answered (the
 *                           container frozen by Docker pause)
 *   session.resume_p50_ms   a query on the SUSPENDED session → its result
 *                           (cost check, room booked again, Docker
 *                           unpause, RUNNING, then the query itself)
 *
 * One session holds `x`; every sample suspends it, then asks `print(x)`.
 *
 * Run: deno run -A tests/bench/suspend.ts
 */
import { startCluster } from "../support/cluster.ts";

const SAMPLES = Number(Deno.env.get("BENCH_SAMPLES") ?? 15);

function p50(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const c = await startCluster({ agents: 1 });
try {
  await c.json("POST", "/session", { image: "python", name: "bench-nap" });
  await c.json("POST", "/session/bench-nap", {
    mode: "query",
    code: "x = 42",
    runId: null,
  });
  const suspend: number[] = [];
  const resume: number[] = [];
  for (let i = 0; i <= SAMPLES; i++) {
    let t = performance.now();
    const s = await c.json<{ status: string }>(
      "POST",
      "/x/session/bench-nap/suspend",
    );
    const suspendMs = performance.now() - t;
    if (s.status !== "SUSPENDED") throw new Error(`status ${s.status}`);
    t = performance.now();
    const q = await c.json<{ result: { console: [string, string][] } }>(
      "POST",
      "/session/bench-nap",
      { mode: "query", code: "print(x)", runId: null },
    );
    const resumeMs = performance.now() - t;
    if (q.result.console[0]?.[1] !== "42\n") {
      throw new Error(`unexpected result ${JSON.stringify(q)}`);
    }
    if (i === 0) continue; // warm-up
    suspend.push(suspendMs);
    resume.push(resumeMs);
    console.error(
      `  suspend ${suspendMs.toFixed(1)} ms, resume+query ${
        resumeMs.toFixed(1)
      } ms`,
    );
  }
  console.log(`BENCH session.suspend_p50_ms ${p50(suspend).toFixed(1)}`);
  console.log(`BENCH session.resume_p50_ms ${p50(resume).toFixed(1)}`);
} finally {
  await c.stop();
}
