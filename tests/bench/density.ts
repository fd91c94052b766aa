/**
 * Idle sessions on one node, through the public API on a real cluster
 * (manager + one agent process, real Docker, the python image). stdout:
 * only `BENCH` lines.
 *   node.idle_sessions_per_gib  idle python sessions one GiB of host memory
 *                               holds: each session's container (its cgroup:
 *                               the runner, page cache charged to it, kernel
 *                               memory), its containerd shim (PSS), and its
 *                               share of what the agent, dockerd and
 *                               containerd grew by
 *   node.max_live_sessions      idle python sessions the agent held while a
 *                               bystander session's `print(1)` stayed under
 *                               10 ms p99 (sessions are added in steps, the
 *                               bystander measured after each: 200 queries,
 *                               up to three tries, the best counts, since
 *                               neighbours share this machine)
 *
 * Size: BENCH_MAX_SESSIONS (default 100: `deno task bench` stays short; the
 * goal of 1,000 is checked with BENCH_MAX_SESSIONS=1000), BENCH_STEP (50).
 * Also printed: `node.bystander_p99_ms.empty` (no idle sessions: what the
 * machine's neighbours alone cost) and `node.bystander_p99_ms.at_max` (at
 * the most sessions reached; BENCH_P99_LIMIT_MS=Infinity keeps adding up to
 * BENCH_MAX_SESSIONS whatever the bystander sees).
 * It stops early when the host has under BENCH_MIN_FREE_GIB (3) available,
 * and removes every container it made at the end. The agent offers a cpu
 * and memory overcommit to hold them (idle sessions use little of either).
 *
 * Run: deno run -A tests/bench/density.ts
 */
import { startCluster } from "../support/cluster.ts";
import { SignedConnection } from "./_signed_http.ts";
import {
  agentContainers,
  cgroupBytes,
  memAvailable,
  pidOf,
  pooled,
  pss,
  quantile,
  rss,
  shimsOf,
  unlimitedKeypair,
} from "./_scale.ts";

const MAX = Number(Deno.env.get("BENCH_MAX_SESSIONS") ?? 100);
const STEP = Number(Deno.env.get("BENCH_STEP") ?? 50);
const MIN_FREE = Number(Deno.env.get("BENCH_MIN_FREE_GIB") ?? 3) * 2 ** 30;
const P99_LIMIT_MS = Number(Deno.env.get("BENCH_P99_LIMIT_MS") ?? 10);
const MEM = 256 * 2 ** 20; // the python image's minimum
const GiB = 2 ** 30;
const log = (s: string) => console.error(`density: ${s}`);

const c = await startCluster({
  agents: 1,
  poolSize: 0,
  agentArgs: () => [
    "--cpu",
    String(MAX + 16),
    "--mem",
    String((MAX + 16) * MEM),
    "--scratch-quota",
    "64m",
  ],
});
try {
  const kp = await unlimitedKeypair(c);
  const agentId = c.agents[0].id;
  await c.json("POST", "/session", {
    image: "python",
    name: "bystander",
    config: { resources: { mem: "256m" } },
  }, kp);
  const conn = await SignedConnection.open(c.port, kp);
  const bystander = async (n: number): Promise<number> => {
    const xs: number[] = [];
    for (let i = 0; i < n + 20; i++) {
      const t = performance.now();
      const r = await conn.json<{ result: { status: string } }>(
        "POST",
        "/session/bystander",
        { mode: "query", code: "print(1)", runId: null },
      );
      if (r.body.result?.status !== "finished") {
        throw new Error(`bystander: ${JSON.stringify(r.body)}`);
      }
      if (i >= 20) xs.push(performance.now() - t);
    }
    return quantile(xs, 0.99);
  };
  // The machine is shared: a neighbour's burst is not the idle sessions'
  // doing. Up to three tries, the best counts.
  const bystanderBest = async (): Promise<number> => {
    let best = Infinity;
    for (let i = 0; i < 3 && best >= P99_LIMIT_MS; i++) {
      best = Math.min(best, await bystander(200));
    }
    return best;
  };
  const hostPids = {
    agent: c.agents[0].proc.pid,
    dockerd: await pidOf("dockerd"),
    containerd: await pidOf("containerd"),
  };
  const hostRss = async () =>
    (await rss(hostPids.agent)) +
    (hostPids.dockerd ? await rss(hostPids.dockerd) : 0) +
    (hostPids.containerd ? await rss(hostPids.containerd) : 0);
  const before = new Set(await agentContainers(agentId)); // the bystander's
  const hostBefore = await hostRss();
  const empty = await bystanderBest();
  log(`bystander p99 with no idle sessions: ${empty.toFixed(2)} ms`);
  let last = empty;

  let held = 0;
  let good = 0;
  let perSession = 0;
  while (held < MAX) {
    const free = await memAvailable();
    if (free < MIN_FREE) {
      log(`stopping: ${(free / GiB).toFixed(1)} GiB available`);
      break;
    }
    const batch = Array.from(
      { length: Math.min(STEP, MAX - held) },
      (_, i) => `idle-${held + i}`,
    );
    const t0 = performance.now();
    await pooled(batch, 4, async (name) => {
      const r = await c.api("POST", "/session", {
        image: "python",
        name,
        config: { resources: { mem: "256m" } },
      }, kp);
      const body = await r.json();
      if (body.status !== "RUNNING") {
        throw new Error(`${name}: ${r.status} ${JSON.stringify(body)}`);
      }
    });
    held += batch.length;
    // Let the new containers go idle before measuring.
    await new Promise((r) => setTimeout(r, 2000));
    const ids = (await agentContainers(agentId)).filter((id) =>
      !before.has(id)
    );
    let bytes = 0;
    for (const id of ids) bytes += await cgroupBytes(id);
    for (const pid of await shimsOf(new Set(ids))) bytes += await pss(pid);
    bytes += Math.max(0, (await hostRss()) - hostBefore);
    perSession = bytes / ids.length;
    const p99 = await bystanderBest();
    log(
      `${held} idle sessions (${
        ((performance.now() - t0) / 1000).toFixed(1)
      } s to add ${batch.length}): ${
        (perSession / 2 ** 20).toFixed(1)
      } MiB each, bystander p99 ${p99.toFixed(2)} ms, ${
        ((await memAvailable()) / GiB).toFixed(1)
      } GiB available`,
    );
    last = p99;
    if (p99 >= P99_LIMIT_MS) break;
    good = held;
  }
  conn.close();
  console.log(
    `BENCH node.idle_sessions_per_gib ${(GiB / perSession).toFixed(1)}`,
  );
  // With the limit off the count says how many the agent held, no more.
  if (Number.isFinite(P99_LIMIT_MS)) {
    console.log(`BENCH node.max_live_sessions ${good}`);
  } else console.log(`BENCH node.live_sessions_held ${held}`);
  console.log(`BENCH node.bystander_p99_ms.empty ${empty.toFixed(2)}`);
  console.log(`BENCH node.bystander_p99_ms.at_max ${last.toFixed(2)}`);
  console.error(`density: held ${held} idle sessions at most`);
} finally {
  log("removing the sessions' containers");
  await c.stop();
}
