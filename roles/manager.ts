/**
 * `deno task manager`: the manager process. Composes the manager's core
 * (actors/manager/node.ts: store, actors, cluster) with the HTTP gateway
 * (routes/) on one port: `/x/cluster` upgrades go to the cluster, the rest
 * to the Backend.AI-compatible API. This is the only place the two meet.
 *
 * @module
 */

import { startManagerCore } from "../actors/manager/node.ts";
import {
  type ManagerConfig,
  parseManagerConfig,
} from "../actors/manager/config.ts";
import { createGateway } from "../routes/app.ts";
import { serveGateway } from "../routes/serve.ts";
import { explainStoreFailure } from "../actors/manager/store_failures.ts";

export { MANAGER_NODE, MANAGER_VERSION } from "../actors/manager/node.ts";

/** A manager serving HTTP. */
export interface RunningManager {
  port: number;
  clusterSecret: string;
  admin: { accessKey: string; secretKey: string };
  stop(): Promise<void>;
}

/** Starts the core, then serves the gateway and the cluster endpoint. */
export async function startManager(
  config: ManagerConfig,
): Promise<RunningManager> {
  const core = await startManagerCore(config);
  const app = createGateway(core.deps, {
    defaultRateLimit: config.rateLimit,
    explainError: explainStoreFailure,
  });
  const server = await serveGateway({
    fetch: (req: Request) => {
      const path = new URL(req.url).pathname;
      return path === "/x/cluster"
        ? core.cluster.acceptUpgrade(req)
        : app.fetch(req);
    },
  }, { hostname: config.hostname, port: config.port });
  core.served(server.port);
  console.error(
    `manager: serving on http://${config.hostname}:${server.port} (cluster endpoint ws://HOST:${server.port}/x/cluster)`,
  );
  let stopped = false;
  return {
    port: server.port,
    clusterSecret: core.clusterSecret,
    admin: core.admin,
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.shutdown();
      await core.stop();
    },
  };
}

export async function run(args: string[]): Promise<void> {
  const manager = await startManager(parseManagerConfig(args));
  // Once: under `deno task` a group-wide signal arrives twice (deno task
  // forwards its own), and the second must not exit before the first's
  // shutdown (database included) is done.
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= manager.stop().then(() => Deno.exit(0));
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}
