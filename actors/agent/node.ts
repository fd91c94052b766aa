/**
 * `deno task agent --manager ws://HOST:PORT`: an agent node. It dials the
 * manager's cluster endpoint (so agents behind NAT work), runs one
 * AgentActor at `/user/agent`, and turns sessions into containers on this
 * machine's Docker engine.
 *
 * SIGTERM drains: the agent takes no new kernels, waits until its kernels
 * have ended (or a deadline passes), then leaves the cluster and exits —
 * scale-in never kills running work. A second SIGTERM (or SIGINT) exits at
 * once, leaving containers running for the next incarnation to re-adopt.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { ActorSystem } from "../runtime/mod.ts";
import type { ActorRef } from "../runtime/types.ts";
import { Cluster } from "../cluster/mod.ts";
import type { RegistryMsg } from "../protocol/manager.ts";
import { AgentActor, type AgentInternalMsg } from "./agent_actor.ts";
import { AgentMsg, KernelMsg } from "../protocol/agent.ts";
import { DockerKernelHost } from "./docker_host.ts";

export const AGENT_VERSION = "0.1.0";

export interface AgentConfig {
  manager: string;
  id: string;
  dataDir: string;
  clusterSecret: string;
  scalingGroup: string;
  region: string;
  /** Warm containers kept per image. */
  poolSize: number;
  /** Images kept warm. */
  poolImages: string[];
  nvidiaSmi: string;
  /** Cap the slots this agent offers (cpu count, mem bytes). */
  cpu?: number;
  mem?: number;
  drainDeadlineMs: number;
}

export function parseAgentConfig(
  args: string[],
  env = Deno.env.toObject(),
): AgentConfig {
  const { values } = parseArgs({
    args,
    options: {
      manager: { type: "string" },
      id: { type: "string" },
      "data-dir": { type: "string" },
      "cluster-secret": { type: "string" },
      "scaling-group": { type: "string" },
      region: { type: "string" },
      pool: { type: "string" },
      "pool-images": { type: "string" },
      "nvidia-smi": { type: "string" },
      cpu: { type: "string" },
      mem: { type: "string" },
      "drain-deadline": { type: "string" },
    },
    strict: true,
  });
  const manager = values.manager ?? env.MANAGER_URL;
  if (!manager) throw new Error("agent: --manager ws://HOST:PORT is required");
  const clusterSecret = values["cluster-secret"] ?? env.CLUSTER_SECRET;
  if (!clusterSecret) {
    throw new Error("agent: --cluster-secret or CLUSTER_SECRET is required");
  }
  return {
    manager,
    id: values.id ?? env.AGENT_ID ?? `agent-${Deno.hostname()}`,
    // Absolute: kernel dirs are bind-mounted, and Docker reads a relative
    // source as a named volume.
    dataDir: resolve(values["data-dir"] ?? env.DATA_DIR ?? "./var/agent"),
    clusterSecret,
    scalingGroup: values["scaling-group"] ?? "default",
    region: values.region ?? "local",
    poolSize: Number(values.pool ?? env.POOL_SIZE ?? 1),
    poolImages: (values["pool-images"] ?? env.POOL_IMAGES ?? "python").split(
      ",",
    ).filter(Boolean),
    nvidiaSmi: values["nvidia-smi"] ?? env.NVIDIA_SMI ?? "nvidia-smi",
    cpu: values.cpu ? Number(values.cpu) : undefined,
    mem: values.mem ? Number(values.mem) : undefined,
    drainDeadlineMs: Number(values["drain-deadline"] ?? 3600) * 1000,
  };
}

/** Starts an agent node; resolves once it has joined the manager. */
export async function startAgent(config: AgentConfig) {
  const managerUrl = config.manager.replace(/\/$/, "") +
    (config.manager.includes("/x/cluster") ? "" : "/x/cluster");
  const host = await DockerKernelHost.create({
    agentId: config.id,
    dataDir: config.dataDir,
    nvidiaSmi: config.nvidiaSmi,
    poolSize: config.poolSize,
    poolImages: config.poolImages,
    cpu: config.cpu,
    mem: config.mem,
  });
  const system = new ActorSystem({ nodeId: config.id });
  const cluster = new Cluster(system, { secret: config.clusterSecret });
  system.setTransport(cluster);
  cluster.registerSchema("/user/agent", AgentMsg.or(KernelMsg));
  const managerNode = await cluster.dial(managerUrl);
  const registry = system.refFor<RegistryMsg>({
    node: managerNode,
    path: "/user/manager/agents",
  });
  const options = {
    id: config.id,
    addr: managerUrl,
    region: config.region,
    scalingGroup: config.scalingGroup,
    version: AGENT_VERSION,
    heartbeatMs: 1000,
    registry,
    host,
  };
  // A fresh instance per (re)start; `current` is the live one.
  let current!: AgentActor;
  const ref = system.spawn(() => (current = new AgentActor(options)), {
    name: "agent",
  }) as ActorRef<AgentMsg | AgentInternalMsg>;
  // A manager that restarted is a new incarnation: join it again, so it
  // re-attaches this agent's kernels to their sessions.
  // After a link loss the manager may also have declared this agent down,
  // ending the watches on its kernels: join again on "reachable" too.
  const rejoin = (e: { node: string }) => {
    if (e.node === managerNode) {
      ref.tell({ type: "rejoin" });
    }
  };
  cluster.on("up", rejoin);
  cluster.on("reachable", rejoin);
  console.error(
    `agent ${config.id}: joined ${managerUrl} (capacity ${
      JSON.stringify(host.capacity())
    })`,
  );

  async function stop(): Promise<void> {
    registry.tell({ type: "agent.leave", id: config.id });
    await new Promise((r) => setTimeout(r, 100));
    await system.shutdown({ deadlineMs: 5000 });
    await cluster.close();
    await host.close();
  }

  async function drain(): Promise<void> {
    ref.tell({ type: "agent.drain", draining: true });
    const deadline = Date.now() + config.drainDeadlineMs;
    while (current.kernelCount > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
    }
    if (current.kernelCount > 0) {
      // Past the deadline: end the kernels rather than orphan their
      // containers; each session is told why (and ends with its usage).
      ref.tell({
        type: "retire-all",
        reason: `agent ${config.id} stopped at its drain deadline`,
      });
      const grace = Date.now() + 10_000;
      while (current.kernelCount > 0 && Date.now() < grace) {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    await stop();
  }

  return {
    system,
    cluster,
    ref,
    host,
    stop,
    drain,
    kernelCount: () => current.kernelCount,
  };
}

export async function run(args: string[]): Promise<void> {
  const config = parseAgentConfig(args);
  const node = await startAgent(config);
  let draining = false;
  Deno.addSignalListener("SIGTERM", () => {
    if (draining) Deno.exit(0);
    draining = true;
    console.error(
      `agent ${config.id}: SIGTERM, draining (${node.kernelCount()} kernels running)`,
    );
    node.drain().then(() => Deno.exit(0));
  });
  Deno.addSignalListener("SIGINT", () => Deno.exit(0));
}
