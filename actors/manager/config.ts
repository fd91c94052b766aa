/**
 * Manager configuration: flags win over environment variables, which win
 * over defaults. Read once at start.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { resolve } from "node:path";

export interface ManagerConfig {
  /** HTTP port of the gateway and the cluster endpoint (`/x/cluster`). */
  port: number;
  hostname: string;
  /** Where the embedded Postgres, generated keys and agent work dirs live. */
  dataDir: string;
  /** External Postgres; without it an embedded one starts under dataDir. */
  databaseUrl?: string;
  adminAccessKey?: string;
  adminSecretKey?: string;
  /** Shared by every node of the cluster; generated and saved when absent. */
  clusterSecret?: string;
  /**
   * Id of the agent `deno task start` runs beside the manager
   * (`LOCAL_AGENT_ID`); unset: the data dir's own (roles/local_agent_id.ts).
   */
  localAgentId?: string;
  /**
   * Port of the embedded Postgres on 127.0.0.1 (`PG_PORT`); unset: the data
   * dir's own, picked free on first start and recorded (store/embedded.ts).
   */
  pgPort?: number;
  /** Whether `--port` or `PORT` chose the HTTP port (else 8081 is a default that may yield). */
  portGiven?: boolean;
  /** Default rate limit of new keypairs (requests per 900 s). */
  rateLimit: number;
  /**
   * Port of the metrics listener (`GET /metrics`, anonymous), on
   * `metricsHostname`; unset: no listener (`--metrics-port`, `METRICS_PORT`).
   */
  metricsPort?: number;
  /** Where the metrics listener binds (`METRICS_HOSTNAME`). @default {"127.0.0.1"} */
  metricsHostname: string;
  /**
   * With it, `GET /metrics` on the API port answers `Authorization: Bearer
   * TOKEN` (`METRICS_TOKEN`); without it the API port serves no metrics.
   */
  metricsToken?: string;
}

export function parseManagerConfig(
  args: string[],
  env = Deno.env.toObject(),
): ManagerConfig {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: "string" },
      hostname: { type: "string" },
      "data-dir": { type: "string" },
      "database-url": { type: "string" },
      "cluster-secret": { type: "string" },
      "rate-limit": { type: "string" },
      "metrics-port": { type: "string" },
      "metrics-hostname": { type: "string" },
    },
    strict: true,
  });
  const port = Number(values.port ?? env.PORT ?? 8081);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`invalid port: ${values.port ?? env.PORT}`);
  }
  const rateLimit = Number(values["rate-limit"] ?? env.RATE_LIMIT ?? 1000);
  if (!Number.isInteger(rateLimit) || rateLimit < 1) {
    throw new Error(`invalid rate limit: ${rateLimit}`);
  }
  return {
    port,
    hostname: values.hostname ?? env.HOSTNAME_BIND ?? "0.0.0.0",
    dataDir: resolve(values["data-dir"] ?? env.DATA_DIR ?? "./var"),
    databaseUrl: values["database-url"] ?? env.DATABASE_URL,
    adminAccessKey: env.ADMIN_ACCESS_KEY,
    adminSecretKey: env.ADMIN_SECRET_KEY,
    clusterSecret: values["cluster-secret"] ?? env.CLUSTER_SECRET,
    localAgentId: env.LOCAL_AGENT_ID || undefined,
    rateLimit,
    pgPort: pgPortOf(env.PG_PORT),
    portGiven: values.port !== undefined || env.PORT !== undefined,
    metricsPort: portOf(
      "metrics port",
      values["metrics-port"] ?? env.METRICS_PORT,
    ),
    metricsHostname: values["metrics-hostname"] ?? env.METRICS_HOSTNAME ??
      "127.0.0.1",
    metricsToken: env.METRICS_TOKEN || undefined,
  };
}

/** A port 0-65535 (0: any free one), or undefined when not given. */
function portOf(what: string, raw: string | undefined): number | undefined {
  if (raw === undefined || raw === "") return undefined;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`invalid ${what}: ${raw}`);
  }
  return port;
}

function pgPortOf(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === "") return undefined;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`invalid PG_PORT: ${raw}`);
  }
  return port;
}
