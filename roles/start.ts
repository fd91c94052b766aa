/**
 * `deno task start`: a whole cluster on one machine. Runs the manager (with
 * embedded Postgres unless DATABASE_URL is set) in this process and one
 * agent node as a child process dialing it over loopback, so the two talk
 * exactly as they would across machines. The agent is restarted if it dies;
 * Ctrl-C stops both, agent first.
 *
 * @module
 */

import { dialHost } from "../actors/cluster/dial_host.ts";
import { parseManagerConfig } from "../actors/manager/config.ts";
import { localUrl, startManager } from "./manager.ts";
import { startBanner } from "./start_banner.ts";
import { ensureImage } from "../images/build.ts";
import { printProgress } from "../images/progress.ts";
import { DEFAULT_IMAGE } from "../images/catalog.ts";
import { localAgentId } from "./local_agent_id.ts";
import { startLocalStorage } from "./local_storage.ts";
import { captureConsole } from "../actors/telemetry/mod.ts";

/** Whether something already listens on `port` (all interfaces or loopback). */
function portBusy(hostname: string, port: number): boolean {
  try {
    Deno.listen({ hostname, port }).close();
    return false;
  } catch (e) {
    if (e instanceof Deno.errors.AddrInUse) return true;
    throw e;
  }
}

export async function run(args: string[]): Promise<void> {
  captureConsole(); // LOG_FORMAT=json: every line one JSON event (the agent's too)
  const config = parseManagerConfig(args);
  // A second cluster on this host (another data dir): its own agent
  // identity, and its own HTTP port when the default one is taken.
  const agentId = await localAgentId(config.dataDir, {
    override: config.localAgentId,
  });
  if (!config.portGiven && portBusy(config.hostname, config.port)) {
    console.error(
      `start: port ${config.port} is taken (another cluster?); using a free port instead (set PORT to choose one)`,
    );
    config.port = 0;
  }
  // The local agent needs the default kernel image; the first start builds it (about two minutes).
  const image = await ensureImage(DEFAULT_IMAGE, { onProgress: printProgress });
  console.error(`start: kernel image ${image.ref} ready`);
  const manager = await startManager(config);
  const storage = startLocalStorage({
    managerUrl: `ws://${dialHost(config.hostname)}:${manager.port}`,
    dataDir: config.dataDir,
    clusterSecret: manager.clusterSecret,
  });
  const agentArgs = [
    "run",
    "-A",
    new URL("../main.ts", import.meta.url).pathname,
    "agent",
    "--manager",
    `ws://${dialHost(config.hostname)}:${manager.port}`,
    "--id",
    agentId,
    "--data-dir",
    `${config.dataDir}/agent`,
  ];
  let stopping = false;
  let child: Deno.ChildProcess | undefined;
  const spawnAgent = () => {
    child = new Deno.Command(Deno.execPath(), {
      args: agentArgs,
      // The agent leaves with this process, however it ends (a kill -9 too).
      env: {
        CLUSTER_SECRET: manager.clusterSecret,
        BAI_EXIT_WITH_PARENT: String(Deno.pid),
        // Its spans apart from the manager's (with OTEL_DENO=true).
        OTEL_SERVICE_NAME: `${
          Deno.env.get("OTEL_SERVICE_NAME") || "backend.ai"
        }-agent`,
      },
      stdin: "null",
    }).spawn();
    child.status.then((s) => {
      if (stopping) return;
      console.error(
        `start: local agent exited (code ${s.code}); restarting in 1 s`,
      );
      setTimeout(() => !stopping && spawnAgent(), 1000);
    });
  };
  spawnAgent();
  console.error(startBanner({
    url: localUrl(config.hostname, manager.port),
    dataDir: config.dataDir,
    adminAccessKey: manager.admin.accessKey,
    adminFromEnv: Boolean(config.adminAccessKey && config.adminSecretKey),
  }));

  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.error("start: stopping agent and manager ...");
    try {
      // Not a drain (SIGTERM waits for every kernel to end): the kernels
      // keep running and the next start re-adopts them, state and all, as
      // after an agent crash. Only the agent process goes.
      child?.kill("SIGKILL");
      await child?.status;
    } catch { /* already gone */ }
    await storage.stop();
    await manager.stop();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}
