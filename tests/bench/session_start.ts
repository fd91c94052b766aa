/**
 * Session start latency through the manager's public API on a real cluster
 * (manager + one agent process, real Docker). stdout: only `BENCH` lines.
 *   session.start_warm_p50_ms            POST /session → first `print(1)`
 *                                        result, the kernel from the warm
 *                                        pool, standard size (1 cpu, 1 GiB)
 *   session.start_warm_p50_ms.512m       the same for `mem: "512m"`
 *   session.start_warm_p50_ms.2cpu_2g    the same for 2 cpus, 2 GiB
 *                                        (the pool resizes on take)
 *   session.create_warm_p50_ms           POST /session → its RUNNING answer
 *   session.start_cold_p50_ms            the first, with no pool
 *                                        (create+start+ready)
 *
 * Each sample destroys its session before the next; warm samples wait
 * until the pool holds a ready container again.
 *
 * Run: deno run -A tests/bench/session_start.ts
 */
import { startCluster, type TestCluster } from "../support/cluster.ts";

const SAMPLES = Number(Deno.env.get("BENCH_SAMPLES") ?? 9);

function p50(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function sh(args: string[]): Promise<string> {
  const out = await new Deno.Command("docker", {
    args,
    stdout: "piped",
    stderr: "null",
  }).output();
  return new TextDecoder().decode(out.stdout);
}

/** Ids of the agent's idle pool containers up for over a second (ready by then). */
async function readyIdle(c: TestCluster): Promise<number> {
  const agentId = c.agents[0].id;
  const ids = (await sh([
    "ps",
    "-q",
    "--no-trunc",
    "--filter",
    `label=ai.backend.agent-id=${agentId}`,
    "--filter",
    "label=ai.backend.pool",
  ])).split("\n").filter(Boolean);
  if (ids.length === 0) return 0;
  const taken = new Set<string>();
  const root = `${c.dataDir}/${agentId}/kernels`;
  for await (const e of Deno.readDir(root)) {
    try {
      const rec = JSON.parse(
        await Deno.readTextFile(`${root}/${e.name}/kernel.json`),
      );
      if (rec.sessionId) taken.add(rec.containerId);
    } catch { /* an idle pool container has no record */ }
  }
  const info = JSON.parse(await sh(["inspect", ...ids])) as {
    Id: string;
    State: { StartedAt: string };
  }[];
  return info.filter((i) =>
    !taken.has(i.Id) && Date.now() - Date.parse(i.State.StartedAt) > 1000
  ).length;
}

async function settle(c: TestCluster, warm: boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  if (warm) {
    while (Date.now() < deadline && await readyIdle(c) === 0) {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await new Promise((r) => setTimeout(r, 300));
}

async function sample(
  c: TestCluster,
  name: string,
  resources: Record<string, unknown>,
): Promise<{ create: number; first: number }> {
  const t = performance.now();
  const created = await c.json<{ status: string }>("POST", "/session", {
    image: "python",
    name,
    config: { resources },
  });
  if (created.status !== "RUNNING") {
    throw new Error(`session ${name} is ${created.status}`);
  }
  const create = performance.now() - t;
  const q = await c.json<{ result: { console: [string, string][] } }>(
    "POST",
    `/session/${name}`,
    { mode: "query", code: "print(1)", runId: null },
  );
  const first = performance.now() - t;
  if (q.result.console[0]?.[1] !== "1\n") {
    throw new Error(`unexpected result ${JSON.stringify(q)}`);
  }
  await c.json("DELETE", `/session/${name}`);
  return { create, first };
}

async function series(
  c: TestCluster,
  label: string,
  resources: Record<string, unknown>,
  warm: boolean,
): Promise<{ create: number; first: number }> {
  const creates: number[] = [];
  const firsts: number[] = [];
  await settle(c, warm);
  await sample(c, `${label}-warmup`, resources); // JIT, connections, first use
  for (let i = 0; i < SAMPLES; i++) {
    await settle(c, warm);
    const s = await sample(c, `${label}-${i}`, resources);
    creates.push(s.create);
    firsts.push(s.first);
    console.error(
      `${label} #${i}: create ${s.create.toFixed(1)} ms, first result ${
        s.first.toFixed(1)
      } ms`,
    );
  }
  return { create: p50(creates), first: p50(firsts) };
}

const warmCluster = await startCluster({ agents: 1, poolSize: 1 });
try {
  const std = await series(warmCluster, "warm", {}, true);
  console.log(`BENCH session.start_warm_p50_ms ${std.first.toFixed(1)}`);
  console.log(`BENCH session.create_warm_p50_ms ${std.create.toFixed(1)}`);
  const small = await series(warmCluster, "warm-512m", { mem: "512m" }, true);
  console.log(`BENCH session.start_warm_p50_ms.512m ${small.first.toFixed(1)}`);
  const big = await series(
    warmCluster,
    "warm-2c2g",
    { cpu: 2, mem: "2g" },
    true,
  );
  console.log(
    `BENCH session.start_warm_p50_ms.2cpu_2g ${big.first.toFixed(1)}`,
  );
} finally {
  await warmCluster.stop();
}
const coldCluster = await startCluster({ agents: 1, poolSize: 0 });
try {
  const cold = await series(coldCluster, "cold", {}, false);
  console.log(`BENCH session.start_cold_p50_ms ${cold.first.toFixed(1)}`);
} finally {
  await coldCluster.stop();
}
