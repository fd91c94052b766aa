/**
 * A real, separate PostgreSQL server for fault tests: Debian's `postgresql`
 * package (`/usr/lib/postgresql/<v>/bin`), a throwaway cluster under a temp
 * dir, run as the `postgres` user with `pg_ctl`, so a test can stop it for
 * a while and start it again under a running manager (`DATABASE_URL`).
 * {@link findPostgresBin} answers undefined when the package is missing
 * (`apt-get install postgresql`), and tests skip with that reason.
 *
 * @module
 */

import { freePort } from "./ports.ts";

/** Where Debian's server binaries are, or undefined. */
export function findPostgresBin(): string | undefined {
  try {
    const versions = [...Deno.readDirSync("/usr/lib/postgresql")]
      .map((e) => e.name).filter((n) => /^\d+$/.test(n))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) {
      const bin = `/usr/lib/postgresql/${v}/bin`;
      try {
        Deno.statSync(`${bin}/pg_ctl`);
        return bin;
      } catch { /* next */ }
    }
  } catch { /* not installed */ }
  return undefined;
}

/** A running external server. */
export interface ExternalPostgres {
  url: string;
  port: number;
  /** `pg_ctl stop -m fast` (connections are cut at once). */
  stop(): Promise<void>;
  /** `pg_ctl start`, waiting until it accepts connections. */
  start(): Promise<void>;
  /** Stops it (if running) and removes the cluster. */
  destroy(): Promise<void>;
}

async function sh(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, {
    args,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) +
    new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")}: ${text}`);
  return text;
}

/** `argv` as the postgres user when we are root (the server refuses root). */
function asPostgres(argv: string[]): [string, string[]] {
  if (Deno.uid() !== 0) return [argv[0], argv.slice(1)];
  return ["setpriv", [
    "--reuid=postgres",
    "--regid=postgres",
    "--init-groups",
    "--",
    ...argv,
  ]];
}

/** initdb + start of a fresh cluster on a free port (trust auth on loopback). */
export async function startExternalPostgres(
  bin: string,
): Promise<ExternalPostgres> {
  const dir = await Deno.makeTempDir({ prefix: "ext-pg-" });
  await Deno.chmod(dir, 0o755);
  const data = `${dir}/data`;
  await Deno.mkdir(data, { mode: 0o700 });
  if (Deno.uid() === 0) await sh("chown", ["-R", "postgres:postgres", dir]);
  const port = freePort();
  await sh(...asPostgres([
    `${bin}/initdb`,
    "-D",
    data,
    "-U",
    "postgres",
    "--auth=trust",
    "--no-sync",
    "-E",
    "UTF8",
    "--no-locale",
  ]));
  const opts =
    `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories= -c fsync=off`;
  const ctl = (args: string[]) =>
    sh(...asPostgres([`${bin}/pg_ctl`, "-D", data, ...args]));
  const start = async () => {
    await ctl(["-o", opts, "-l", `${dir}/log`, "-w", "-t", "30", "start"]);
  };
  await start();
  let running = true;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    async stop() {
      await ctl(["-m", "fast", "-w", "stop"]);
      running = false;
    },
    async start() {
      await start();
      running = true;
    },
    async destroy() {
      if (running) await ctl(["-m", "immediate", "-w", "stop"]).catch(() => {});
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
