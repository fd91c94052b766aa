/**
 * `deno task agent --manager ws://HOST:PORT`: an agent node. It dials the
 * manager's cluster endpoint (so agents behind NAT work), runs one
 * AgentActor at `/user/node/agent` (root.ts), and turns sessions into containers on this
 * machine's Docker engine.
 *
 * SIGTERM drains: the agent takes no new kernels, waits until its kernels
 * have ended (or a deadline passes), then leaves the cluster and exits —
 * scale-in never kills running work. More SIGTERMs change nothing: a
 * supervisor that signals the whole process group (systemd, `kill -TERM --
 * -PGID`) reaches the agent twice when it runs under `deno task`, which
 * forwards the signal it got to its child. SIGINT (or SIGQUIT) exits at
 * once, leaving containers running for the next incarnation to re-adopt.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { ActorSystem, Supervisor } from "../runtime/mod.ts";
import { Cluster } from "../cluster/mod.ts";
import type { RegistryMsg } from "../protocol/manager.ts";
import { AgentActor, type AgentInternalMsg } from "./agent_actor.ts";
import { AGENT_PATHS, AgentMsg, KernelMsg } from "../protocol/agent.ts";
import { agentTree } from "./root.ts";
import { DockerKernelHost } from "./docker_host.ts";
import { StorageSight } from "./storage_sight.ts";
import { enableScratchQuota } from "./kernel/workdir.ts";
import { parseBinarySize } from "../../policies/slots.ts";
import { STORAGE_PATH } from "../protocol/storage.ts";
import { captureConsole } from "../telemetry/mod.ts";
import { agentMetrics } from "./telemetry.ts";
import { ManagerLink, refusalLine } from "./manager_link.ts";

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
  /** Host memory idle pool containers may hold (`--pool-budget`, bytes); unset: the host's default. */
  poolBudget?: number;
  /** Reset pool containers after their session and reuse them (`--no-recycle`, `POOL_RECYCLE=0` turn it off). */
  poolRecycle: boolean;
  nvidiaSmi: string;
  /** Cap the slots this agent offers (cpu count, mem bytes). */
  cpu?: number;
  mem?: number;
  drainDeadlineMs: number;
  /** Limit of each kernel's /home/work (bytes; 0 = no scratch quota). */
  scratchQuota: number;
  /** The Docker engine's socket (`--docker-socket`, `DOCKER_HOST=unix://...`). */
  dockerSocket?: string;
  /** Port of this agent's `GET /metrics` on 127.0.0.1 (`--metrics-port`, `AGENT_METRICS_PORT`); unset: none. */
  metricsPort?: number;
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
      "pool-budget": { type: "string" },
      "no-recycle": { type: "boolean" },
      "nvidia-smi": { type: "string" },
      cpu: { type: "string" },
      mem: { type: "string" },
      "drain-deadline": { type: "string" },
      "scratch-quota": { type: "string" },
      "docker-socket": { type: "string" },
      "metrics-port": { type: "string" },
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
    poolBudget: optionalSize(values["pool-budget"] ?? env.POOL_BUDGET),
    poolRecycle: !values["no-recycle"] && env.POOL_RECYCLE !== "0",
    nvidiaSmi: values["nvidia-smi"] ?? env.NVIDIA_SMI ?? "nvidia-smi",
    cpu: values.cpu ? Number(values.cpu) : undefined,
    mem: values.mem ? Number(values.mem) : undefined,
    drainDeadlineMs: Number(values["drain-deadline"] ?? 3600) * 1000,
    scratchQuota: parseBinarySize(
      values["scratch-quota"] ?? env.SCRATCH_QUOTA ?? "4g",
    ),
    metricsPort: metricsPortOf(
      values["metrics-port"] ?? env.AGENT_METRICS_PORT,
    ),
    dockerSocket: values["docker-socket"] ??
      (env.DOCKER_HOST?.startsWith("unix://")
        ? env.DOCKER_HOST.slice("unix://".length)
        : undefined),
  };
}

/** Starts an agent node; resolves once it has joined the manager. */
export async function startAgent(config: AgentConfig) {
  const managerUrl = config.manager.replace(/\/$/, "") +
    (config.manager.includes("/x/cluster") ? "" : "/x/cluster");
  // Each kernel's /home/work on a quota dir (workdir.ts), before any kernel dir is made.
  if (config.scratchQuota > 0) {
    await enableScratchQuota(config.dataDir, {
      defaultBytes: config.scratchQuota,
    });
  }
  const host = await DockerKernelHost.create({
    agentId: config.id,
    dataDir: config.dataDir,
    nvidiaSmi: config.nvidiaSmi,
    poolSize: config.poolSize,
    poolImages: config.poolImages,
    poolBudget: config.poolBudget,
    poolRecycle: config.poolRecycle,
    cpu: config.cpu,
    mem: config.mem,
    dockerSocket: config.dockerSocket,
  });
  const system = new ActorSystem({ nodeId: config.id });
  const link = new ManagerLink(config.id, managerUrl);
  const cluster = new Cluster(system, {
    secret: config.clusterSecret,
    log: link.log,
  });
  system.setTransport(cluster);
  cluster.registerSchema(AGENT_PATHS.agent, AgentMsg.or(KernelMsg));
  // Not awaited: a host that drops packets would hold the dial for minutes.
  link.dialing().catch(() => undefined);
  const managerNode = await cluster.dial(managerUrl);
  link.joined();
  const registry = system.refFor<RegistryMsg>({
    node: managerNode,
    path: "/user/manager/agents",
  });
  // Storage hosts this machine can mount, for sessions with folders.
  const sight = new StorageSight(
    system.refFor({ node: managerNode, path: STORAGE_PATH }),
  );
  sight.start();
  const options = {
    storageHosts: () => sight.visible(),
    id: config.id,
    addr: await link.ownAddress(),
    region: config.region,
    scalingGroup: config.scalingGroup,
    version: AGENT_VERSION,
    heartbeatMs: 1000,
    registry,
    host,
  };
  // A fresh instance per (re)start; `current` is the live one.
  let current!: AgentActor;
  system.spawn(
    () => new Supervisor(agentTree(() => (current = new AgentActor(options)))),
    { name: "node" },
  );
  const ref = system.refFor<AgentMsg | AgentInternalMsg>({
    node: config.id,
    path: AGENT_PATHS.agent,
  });
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

  /** Leaves the cluster (saying why, for the manager's statusInfo) and shuts down. */
  async function stop(reason?: string): Promise<void> {
    registry.tell({ type: "agent.leave", id: config.id, reason });
    await new Promise((r) => setTimeout(r, 100));
    sight.stop();
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
    let why = "left after draining (SIGTERM): its kernels had ended";
    if (current.kernelCount > 0) {
      // Past the deadline: end the kernels rather than orphan their
      // containers; each session is told why (and ends with its usage).
      ref.tell({
        type: "retire-all",
        reason: `agent ${config.id} stopped at its drain deadline`,
      });
      why = `left at its drain deadline (SIGTERM, --drain-deadline ${
        config.drainDeadlineMs / 1000
      } s): its kernels were ended`;
      const grace = Date.now() + 10_000;
      while (current.kernelCount > 0 && Date.now() < grace) {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    await stop(why);
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
  captureConsole(); // LOG_FORMAT=json: every line one JSON event
  let config: AgentConfig;
  let node: Awaited<ReturnType<typeof startAgent>>;
  try {
    config = parseAgentConfig(args);
  } catch (e) {
    // A wrong flag is one line, not a stack.
    const msg = e instanceof Error ? e.message : String(e);
    console.error(msg.startsWith("agent:") ? msg : `agent: ${msg}`);
    Deno.exit(2);
  }
  try {
    node = await startAgent(config);
  } catch (e) {
    const line = refusalLine(config.id, config.manager, e);
    if (line === undefined) throw e;
    console.error(line);
    Deno.exit(1);
  }
  await agentMetrics(
    node,
    config.metricsPort === undefined ? undefined : { port: config.metricsPort },
  );
  let draining = false;
  Deno.addSignalListener("SIGTERM", () => {
    if (draining) {
      console.error(
        `agent ${config.id}: SIGTERM again, still draining (${node.kernelCount()} kernels running; SIGINT exits now)`,
      );
      return;
    }
    draining = true;
    console.error(
      `agent ${config.id}: SIGTERM, draining (${node.kernelCount()} kernels running)`,
    );
    node.drain().then(() => Deno.exit(0));
  });
  Deno.addSignalListener("SIGINT", () => Deno.exit(0));
  Deno.addSignalListener("SIGQUIT", () => Deno.exit(0));
}

/** A binary size flag (`4g`, `512m`, bytes), or undefined when not given. */
function optionalSize(raw: string | undefined): number | undefined {
  return raw === undefined || raw === "" ? undefined : parseBinarySize(raw);
}

function metricsPortOf(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === "") return undefined;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`agent: invalid --metrics-port: ${raw}`);
  }
  return port;
}
