import { agentTestEnv, runCode } from "../fixtures/agent_docker.ts";
await using env = await agentTestEnv();
for (let j = 0; j < 3; j++) {
  const k = await env.launcher.launch({ image: env.image, kernelId: "fr" + j, sessionId: "fr", slots: { cpu: 1, mem: 1 << 30 } });
  await new Promise((r) => setTimeout(r, 1000));
  const xs = [];
  for (let i = 0; i < 4; i++) { const t = performance.now(); await runCode(k.connection, "print(1)"); xs.push((performance.now() - t).toFixed(2)); }
  console.log("runs ms", xs.join(" "));
  await env.launcher.destroy(k);
}
