// temporary: profile the exec path (issue 17); run with BAI_NODE_DENO_FLAGS
import { startCluster } from "../support/cluster.ts";
const N = Number(Deno.env.get("N") ?? 2000);
const c = await startCluster({ agents: 1, managerEnv: { RATE_LIMIT: "1000000000" } });
try {
  await c.json("POST", "/session", { image: "python", name: "prof" });
  const t0 = performance.now();
  const xs: number[] = [];
  for (let i = 0; i < N; i++) {
    const t = performance.now();
    await c.json("POST", "/session/prof", { mode: "query", code: "print(1)", runId: null });
    xs.push(performance.now() - t);
  }
  xs.sort((a, b) => a - b);
  console.log(`p50 ${xs[N >> 1].toFixed(2)} total ${(performance.now() - t0).toFixed(0)}`);
  const p = c.agents[0].proc;
  p.kill("SIGINT");
  await p.status;
} finally {
  await c.stop();
}
