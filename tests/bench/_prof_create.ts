// temporary (issue 17): per-phase timing of a warm create via OTel console spans
import { startCluster } from "../support/cluster.ts";
const otel = { OTEL_DENO: "true", OTEL_EXPORTER_OTLP_PROTOCOL: "console", OTEL_SERVICE_NAME: "x" };
const c = await startCluster({ agents: 1, poolSize: 1, logs: true, managerEnv: otel, agentEnv: otel });
try {
  for (let i = 0; i < 4; i++) {
    await new Promise((r) => setTimeout(r, 1500));
    const t = performance.now();
    await c.json("POST", "/session", { image: "python", name: `pc-${i}` });
    const t1 = performance.now();
    await c.json("POST", `/session/pc-${i}`, { mode: "query", code: "print(1)", runId: null });
    console.error(`PROBE create ${(t1 - t).toFixed(1)} query ${(performance.now() - t1).toFixed(1)}`);
    await c.json("DELETE", `/session/pc-${i}`);
  }
} finally { await c.stop(); }
