import { agentTestEnv, runCode } from "../fixtures/agent_docker.ts";
Deno.env.set("AGENT_TEST_IMAGE", Deno.env.get("AGENT_TEST_IMAGE") ?? "bai/python:3.11-bookworm");
await using env = await agentTestEnv();
const k = await env.launcher.launch({ image: env.image, kernelId: "rtt", sessionId: "rtt", slots: { cpu: 1, mem: 1 << 30 } });
for (let i = 0; i < 50; i++) await runCode(k.connection, "print(1)");
const xs: number[] = []; const ps: number[] = [];
for (let i = 0; i < 500; i++) { const t = performance.now(); await runCode(k.connection, "print(1)"); xs.push(performance.now() - t); }
for (let i = 0; i < 500; i++) { const t = performance.now(); await k.connection.ping(); ps.push(performance.now() - t); }
xs.sort((a, b) => a - b); ps.sort((a, b) => a - b);
console.log("exec print(1) p50 ms", xs[250].toFixed(3), "ping p50 ms", ps[250].toFixed(3));
await env.launcher.destroy(k);
