import { agentTestEnv } from "../fixtures/agent_docker.ts";
import { resizeKernel } from "../../actors/agent/kernel/resize.ts";
await using env = await agentTestEnv();
const k = await env.launcher.launch({ image: env.image, kernelId: "rz", sessionId: "rz", slots: { cpu: 1, mem: 128 << 20 } });
let from = { cpu: 1, mem: 128 << 20, pids: 256 };
for (let i = 0; i < 20; i++) {
  const to = { cpu: i % 2 ? 1 : 0.5, mem: (i % 2 ? 128 : 512) << 20, pids: 256 };
  const t = performance.now();
  await resizeKernel(env.docker, k.containerId, from, to);
  const t1 = performance.now();
  await new Promise((r) => setTimeout(r, 50));
  console.log("resize ms", (t1 - t).toFixed(3));
  from = to;
}
await env.launcher.destroy(k);
