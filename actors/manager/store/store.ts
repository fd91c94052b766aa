/**
 * Opens the manager's store: connects to `databaseUrl`, or starts the
 * embedded Postgres under `dataDir` when none is given, applies migrations,
 * and hands out the repositories.
 *
 * @module
 */
import postgres from "postgres";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "./embedded.ts";
import { loadMigrations, migrate, type MigrationResult } from "./migrate.ts";
import { AgentRepo } from "./agents.ts";
import { CostRepo } from "./cost.ts";
import { KernelRepo } from "./kernels.ts";
import { KeypairRepo } from "./keypairs.ts";
import { PolicyRepo } from "./policies.ts";
import { ScalingGroupRepo } from "./scaling_groups.ts";
import { SessionRepo } from "./sessions.ts";
import { UsageRepo } from "./usage.ts";
import { guardDriverCrash } from "./failures.ts";
import { WebSessionRepo } from "./web_sessions.ts";

/** Options of {@link openStore}. */
export interface StoreOptions {
  /**
   * An external server (`postgres://user:pass@host:port/db`). When absent the
   * embedded server of `dataDir` is used. openStore does not read the
   * environment: the manager passes `Deno.env.get("DATABASE_URL")` here
   * (see {@link databaseUrlFromEnv}).
   */
  databaseUrl?: string;
  /** The manager's data dir; holds the embedded cluster, its password and log. */
  dataDir: string;
  /** Port of the embedded server on 127.0.0.1. @default {the data dir's own, recorded in `<dataDir>/postgres.port`} */
  port?: number;
  /** See {@link EmbeddedPostgresOptions.durable}. @default {true} */
  durable?: boolean;
  /** Directory of the NNNN_name.sql files. @default {the repository's migrations/} */
  migrationsDir?: string;
  /** Connection pool size. @default {10} */
  maxConnections?: number;
  /** One-line operator messages. @default {console.error} */
  log?: (line: string) => void;
}

/** The store: repositories over one connection pool. */
export interface Store {
  /** The raw driver, for queries no repository covers yet. */
  readonly sql: postgres.Sql;
  readonly keypairs: KeypairRepo;
  readonly policies: PolicyRepo;
  readonly scalingGroups: ScalingGroupRepo;
  readonly agents: AgentRepo;
  readonly sessions: SessionRepo;
  readonly kernels: KernelRepo;
  readonly usage: UsageRepo;
  /** Signed-in dashboard sessions (`/ui`). */
  readonly webSessions: WebSessionRepo;
  /** Prices, keypairs' cost settings, session phases (cost.ts). */
  readonly cost: CostRepo;
  /** What migration did at open. */
  readonly migration: MigrationResult;
  /** The embedded server, when one was started. */
  readonly embedded: EmbeddedPostgres | null;
  /** Creates the `default` resource policy and scaling group if missing. */
  ensureDefaults(): Promise<void>;
  /** Closes the pool, then stops the embedded server (if any). Idempotent. */
  close(): Promise<void>;
}

/** `DATABASE_URL` from the environment, or undefined when unset or empty. */
export function databaseUrlFromEnv(): string | undefined {
  return Deno.env.get("DATABASE_URL") || undefined;
}

/**
 * Opens the store. On any failure after the embedded server started (a
 * {@link MigrationError} such as {@link SchemaTooNewError}, a bad URL), the
 * server is stopped again before the error propagates.
 */
export async function openStore(options: StoreOptions): Promise<Store> {
  guardDriverCrash(options.log ?? ((line) => console.error(line)));
  const migrations = await loadMigrations(options.migrationsDir);
  const embedded = options.databaseUrl ? null : await startEmbeddedPostgres({
    dataDir: options.dataDir,
    port: options.port,
    durable: options.durable,
    log: options.log,
  });
  const sql = postgres(options.databaseUrl ?? embedded!.url, {
    max: options.maxConnections ?? 10,
    onnotice: () => {},
    // While the database is away, a query fails within seconds (a 503 the
    // client can retry) instead of waiting the driver's default 30 s; the
    // pool reconnects by itself on the next query once it is back.
    connect_timeout: 5,
  });
  let migration: MigrationResult;
  try {
    migration = await migrate(sql, migrations);
  } catch (e) {
    await sql.end({ timeout: 5 });
    await embedded?.stop();
    throw e;
  }
  let closing: Promise<void> | undefined;
  return {
    sql,
    keypairs: new KeypairRepo(sql),
    policies: new PolicyRepo(sql),
    scalingGroups: new ScalingGroupRepo(sql),
    agents: new AgentRepo(sql),
    sessions: new SessionRepo(sql),
    kernels: new KernelRepo(sql),
    usage: new UsageRepo(sql),
    webSessions: new WebSessionRepo(sql),
    cost: new CostRepo(sql),
    migration,
    embedded,
    async ensureDefaults() {
      await sql`insert into resource_policies (name) values ('default') on conflict (name) do nothing`;
      await sql`insert into scaling_groups (name) values ('default') on conflict (name) do nothing`;
    },
    close() {
      closing ??= (async () => {
        await sql.end({ timeout: 5 });
        await embedded?.stop();
      })();
      return closing;
    },
  };
}
