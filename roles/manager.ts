/**
 * `deno task manager`: the manager process. Composes the manager's core
 * (actors/manager/node.ts: store, actors, cluster) with the HTTP gateway
 * (routes/) on one port: `/x/cluster` upgrades go to the cluster, the rest
 * to the Backend.AI-compatible API. This is the only place the two meet.
 *
 * @module
 */

import { dialHost } from "../actors/cluster/dial_host.ts";
import { startManagerCore } from "../actors/manager/node.ts";
import {
  type ManagerConfig,
  parseManagerConfig,
} from "../actors/manager/config.ts";
import { createGateway } from "../routes/app.ts";
import { type GatewayServer, serveGateway } from "../routes/serve.ts";
import type { AppOrigin } from "../routes/app_proxy/origin.ts";
import { APP_PROXY_PREFIX } from "../actors/manager/port/channels.ts";
import { explainStoreFailure } from "../actors/manager/store_failures.ts";
import { collectManagerCore } from "../actors/manager/telemetry.ts";
import {
  captureConsole,
  metrics,
  serveMetrics,
} from "../actors/telemetry/mod.ts";

export { MANAGER_NODE, MANAGER_VERSION } from "../actors/manager/node.ts";

/** A manager serving HTTP. */
export interface RunningManager {
  port: number;
  clusterSecret: string;
  admin: { accessKey: string; secretKey: string };
  /** Port of the metrics listener, when `metricsPort` was given. */
  metricsPort?: number;
  stop(): Promise<void>;
}

/** Starts the core, then serves the gateway and the cluster endpoint. */
export async function startManager(
  config: ManagerConfig,
): Promise<RunningManager> {
  const core = await startManagerCore(config);
  // Metrics: sampled at each scrape (actors/manager/telemetry.ts).
  const stopCollecting = collectManagerCore(core);
  // Session apps (Jupyter) on an origin of their own (routes/app_proxy/origin.ts).
  const apps = await serveApps(config, (req) => app.fetch(req));
  const app = createGateway(core.deps, {
    defaultRateLimit: config.rateLimit,
    explainError: explainStoreFailure,
    telemetry: { registry: metrics, metricsToken: config.metricsToken },
    appProxyOrigin: apps.origin,
  });
  const metricsServer = config.metricsPort === undefined
    ? undefined
    : await serveMetrics(metrics, {
      port: config.metricsPort,
      hostname: config.metricsHostname,
    });
  if (metricsServer) {
    console.error(
      `manager: metrics on http://${metricsServer.hostname}:${metricsServer.port}/metrics`,
    );
  }
  const server = await serveGateway({
    fetch: (req: Request) => {
      const path = new URL(req.url).pathname;
      return path === "/x/cluster"
        ? core.cluster.acceptUpgrade(req)
        : app.fetch(req);
    },
  }, { hostname: config.hostname, port: config.port });
  core.served(server.port);
  const endpoint = await writeEndpoint(config, server.port);
  console.error(
    `manager: serving on http://${config.hostname}:${server.port} (cluster endpoint ws://HOST:${server.port}/x/cluster)`,
  );
  if (apps.server) {
    console.error(
      `manager: session apps (Jupyter ...) on http://${config.hostname}:${apps.server.port}/x/apps/`,
    );
  }
  let stopped = false;
  return {
    port: server.port,
    clusterSecret: core.clusterSecret,
    admin: core.admin,
    metricsPort: metricsServer?.port,
    async stop() {
      if (stopped) return;
      stopped = true;
      stopCollecting();
      await metricsServer?.shutdown();
      await apps.server?.shutdown();
      await server.shutdown();
      await endpoint.remove();
      await core.stop();
    },
  };
}

/**
 * Where session apps are served. `APP_PROXY_ORIGIN` names an origin of
 * their own (another host name of this server); otherwise a listener of
 * their own on `APP_PORT` (default: the API port + 1, or any free port when
 * that is taken) that answers the app proxy's paths only, so nothing of the
 * dashboard is ever served on the apps' origin.
 */
async function serveApps(
  config: ManagerConfig,
  fetch: (req: Request) => Response | Promise<Response>,
): Promise<{ origin: AppOrigin; server?: GatewayServer }> {
  const fixed = Deno.env.get("APP_PROXY_ORIGIN");
  if (fixed) return { origin: { kind: "fixed", origin: fixed } };
  const wanted = Number(
    Deno.env.get("APP_PORT") ?? (config.port > 0 ? config.port + 1 : 0),
  );
  const handler = {
    fetch: (req: Request) =>
      new URL(req.url).pathname.startsWith(`${APP_PROXY_PREFIX}/`)
        ? fetch(req)
        : new Response("Only session apps are served on this port.\n", {
          status: 404,
          headers: { "Content-Type": "text/plain" },
        }),
  };
  let server: GatewayServer;
  try {
    server = await serveGateway(handler, {
      hostname: config.hostname,
      port: wanted,
    });
  } catch (e) {
    const inUse = e instanceof Deno.errors.AddrInUse ||
      (e as { code?: string }).code === "EADDRINUSE";
    if (!inUse || wanted === 0) throw e;
    server = await serveGateway(handler, {
      hostname: config.hostname,
      port: 0,
    });
  }
  return { origin: { kind: "port", port: server.port }, server };
}

/** The URL a client on this host reaches a gateway bound to `hostname` at. */
export function localUrl(hostname: string, port: number): string {
  return `http://${dialHost(hostname)}:${port}`;
}

/**
 * Writes `<dataDir>/endpoint` (the URL `deno task cli` finds this manager
 * at: the port may have been picked at start) and answers how to remove it
 * again at stop, unless another manager of the data dir wrote it since.
 */
async function writeEndpoint(
  config: ManagerConfig,
  port: number,
): Promise<{ remove(): Promise<void> }> {
  const file = `${config.dataDir}/endpoint`;
  const url = localUrl(config.hostname, port);
  await Deno.writeTextFile(file, url + "\n");
  return {
    async remove() {
      const now = await Deno.readTextFile(file).catch(() => "");
      if (now.trim() === url) await Deno.remove(file).catch(() => undefined);
    },
  };
}

export async function run(args: string[]): Promise<void> {
  captureConsole(); // LOG_FORMAT=json: every line one JSON event
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
