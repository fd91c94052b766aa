/**
 * Benchmarks of the pure policies:
 *
 * - `scheduler.place_10k_on_1k_ms`: one `schedule()` pass placing 10,000
 *   pending sessions (mixed cpu/mem/GPU requests, 200 keypairs) onto 1,000
 *   simulated agents, median of several runs for each queue order (FIFO,
 *   DRF) with bin-packing; the line reports the slowest order's median.
 * - `policy.rate_limit_check_per_s`: rate-limit checks per second on one
 *   keypair at the default limit (1000 per 900 s), requests 450 ms apart:
 *   twice the sustainable rate, so about half are refused and the log
 *   keeps sliding (appends, expiries and compactions all exercised).
 *
 * Usage: `deno run -A tests/bench/scheduler.ts`. Prints only `BENCH` lines
 * on stdout; details on stderr.
 *
 * @module
 */

import {
  checkRateLimit,
  emptyRateLimitState,
  type PendingSession,
  type QueueOrder,
  type SchedulableAgent,
  schedule,
} from "../../policies/mod.ts";

const GiB = 1024 ** 3;

function lcg(seed: number): () => number {
  return () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

function makeAgents(n: number): SchedulableAgent[] {
  const rnd = lcg(7);
  return Array.from({ length: n }, (_, i) => {
    const gpu = i % 4 === 0;
    const capacity: Record<string, number> = {
      cpu: 64,
      mem: 256 * GiB,
      ...(gpu ? { "cuda.device": 8 } : {}),
    };
    const used = Math.floor(rnd() * 16);
    return {
      id: `agent-${i}`,
      capacity,
      occupied: { cpu: used, mem: used * 2 * GiB },
      draining: i % 100 === 99,
    };
  });
}

function makePending(n: number): PendingSession[] {
  const rnd = lcg(11);
  return Array.from({ length: n }, (_, i) => {
    const gpu = rnd() < 0.1;
    return {
      id: `sess-${i}`,
      accessKey: `AK${i % 200}`,
      createdAt: i,
      requestedSlots: {
        cpu: 1 + Math.floor(rnd() * 4),
        mem: (1 + Math.floor(rnd() * 8)) * GiB,
        ...(gpu ? { "cuda.device": 1 } : {}),
      },
    };
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const agents = makeAgents(1000);
const pending = makePending(10_000);
let worst = 0;
for (const order of ["fifo", "drf"] as QueueOrder[]) {
  const times: number[] = [];
  for (let run = 0; run < 6; run++) {
    const t0 = performance.now();
    const r = schedule({
      pending,
      agents,
      now: 20_000,
      options: { order, placement: "binpack" },
    });
    const ms = performance.now() - t0;
    if (run > 0) times.push(ms); // first run warms the JIT
    if (run === 0) {
      console.error(
        `scheduler ${order}: placed ${r.placements.length}, waiting ${r.waiting.length}, refused ${r.refused.length}`,
      );
    }
  }
  const m = median(times);
  console.error(`scheduler ${order}: median ${m.toFixed(1)} ms`);
  worst = Math.max(worst, m);
}
console.log(`BENCH scheduler.place_10k_on_1k_ms ${worst.toFixed(1)}`);

{
  const N = 2_000_000;
  let state = emptyRateLimitState();
  let allowed = 0;
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const d = checkRateLimit(state, i * 450, 1000);
    state = d.state;
    if (d.allowed) allowed++;
  }
  const s = (performance.now() - t0) / 1000;
  console.error(`rate limit: ${allowed} of ${N} allowed in ${s.toFixed(2)} s`);
  console.log(`BENCH policy.rate_limit_check_per_s ${Math.round(N / s)}`);
}
