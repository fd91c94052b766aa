/**
 * Session start latency through the manager's public API on a real cluster
 * (manager + one agent process, real Docker). stdout: only `BENCH` lines.
 *   session.start_warm_p50_ms  POST /session → first `print(1)` result, the
 *                              kernel taken from the agent's warm pool
 *   session.start_cold_p50_ms  the same with pool size 0 (create+start+ready)
 *
 * Each sample destroys its session before the next; warm samples wait until
 * the pool holds a ready container again (the agent's container count).
 *
 * Run: deno run -A tests/bench/session_start.ts
 */
import { startCluster, type TestCluster } from "../support/cluster.ts";

const SAMPLES = Number(Deno.env.get("BENCH_SAMPLES") ?? 9);

function p50(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function agentContainers(agentId: string): Promise<number> {
  const out = await new Deno.Command("docker", {
    args: ["ps", "-q", "--filter", `label=ai.backend.agent-id=${agentId}`],
    stdout: "piped",
    stderr: "null",
  }).output();
  return new TextDecoder().decode(out.stdout).split("\n").filter(Boolean)
    .length;
}

/** Waits until the agent runs exactly `n` containers, then lets the runner get ready. */
async function settleTo(agentId: string, n: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (await agentContainers(agentId) === n) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  // The pool lists a container only after its runner said `ready`.
  await new Promise((r) => setTimeout(r, 800));
}

async function sample(c: TestCluster, name: string): Promise<number> {
  const t = performance.now();
  const created = await c.json<{ status: string }>("POST", "/session", {
    image: "python",
    name,
  });
  if (created.status !== "RUNNING") {
    throw new Error(`session ${name} is ${created.status}`);
  }
  const createdMs = performance.now() - t;
  const q = await c.json<{ result: { console: [string, string][] } }>(
    "POST",
    `/session/${name}`,
    { mode: "query", code: "print(1)", runId: null },
  );
  const ms = performance.now() - t;
  console.error(
    `  create ${createdMs.toFixed(1)} ms, query ${
      (ms - createdMs).toFixed(1)
    } ms`,
  );
  if (q.result.console[0]?.[1] !== "1\n") {
    throw new Error(`unexpected result ${JSON.stringify(q)}`);
  }
  await c.json("DELETE", `/session/${name}`);
  return ms;
}

async function series(poolSize: number, label: string): Promise<number> {
  const c = await startCluster({ agents: 1, poolSize });
  try {
    const agentId = c.agents[0].id;
    const xs: number[] = [];
    await settleTo(agentId, poolSize);
    await sample(c, `${label}-warmup`); // JIT, DB connections, first image use
    for (let i = 0; i < SAMPLES; i++) {
      await settleTo(agentId, poolSize);
      xs.push(await sample(c, `${label}-${i}`));
      console.error(`${label} #${i}: ${xs.at(-1)!.toFixed(1)} ms`);
    }
    return p50(xs);
  } finally {
    await c.stop();
  }
}

const warm = await series(1, "warm");
console.log(`BENCH session.start_warm_p50_ms ${warm.toFixed(1)}`);
const cold = await series(0, "cold");
console.log(`BENCH session.start_cold_p50_ms ${cold.toFixed(1)}`);
