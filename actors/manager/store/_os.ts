/**
 * Small operating-system helpers for the embedded Postgres launcher: running a
 * command, the `postgres` system user, and looking at processes in /proc.
 * Internal (underscore): only embedded.ts and native.ts use them.
 *
 * @module
 */

/** Result of {@link run}. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion and captures its output. Never throws on exit codes. */
export async function run(
  cmd: string,
  args: string[],
  env?: Record<string, string>,
): Promise<RunResult> {
  const out = await new Deno.Command(cmd, {
    args,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

/** The system account the cluster runs as when we are root. */
export interface SystemUser {
  name: string;
  uid: number;
  gid: number;
}

/**
 * Returns the `postgres` system user, creating it with `useradd --system`
 * when missing. Postgres refuses to run as root, so a root manager needs it.
 */
export async function ensureSystemUser(name = "postgres"): Promise<SystemUser> {
  let id = await run("id", ["-u", name]);
  if (id.code !== 0) {
    const add = await run("useradd", [
      "--system",
      "--user-group",
      "--no-create-home",
      "--home-dir",
      "/nonexistent",
      "--shell",
      "/usr/sbin/nologin",
      name,
    ]);
    // A parallel launcher may have created it between our two calls.
    if (add.code !== 0 && (await run("id", ["-u", name])).code !== 0) {
      throw new Error(`useradd ${name} failed: ${add.stderr.trim()}`);
    }
    id = await run("id", ["-u", name]);
  }
  const gid = await run("id", ["-g", name]);
  return {
    name,
    uid: Number(id.stdout.trim()),
    gid: Number(gid.stdout.trim()),
  };
}

/**
 * The argv prefix that runs a program as `user` (nothing when `user` is
 * undefined). setpriv execs in place, so the spawned pid is the program's pid
 * and signals reach it directly. `deathSignal` asks the kernel to send that
 * signal to the program when its parent (the manager) dies, so a crashed
 * manager does not leave its database running.
 */
export function asUser(
  user: SystemUser | undefined,
  deathSignal?: string,
): string[] {
  if (!user) return [];
  const prefix = [
    "setpriv",
    `--reuid=${user.uid}`,
    `--regid=${user.gid}`,
    "--init-groups",
  ];
  if (deathSignal) prefix.push(`--pdeathsig=${deathSignal}`);
  return [...prefix, "--"];
}

/** Whether `user` can write into (and so traverse to) `dir`. */
export async function canUserWrite(
  user: SystemUser | undefined,
  dir: string,
): Promise<boolean> {
  const argv = [...asUser(user), "test", "-w", dir, "-a", "-x", dir];
  return (await run(argv[0], argv.slice(1))).code === 0;
}

/** Recursively hands `path` to `user` (no-op without one). */
export async function chownTree(
  path: string,
  user: SystemUser | undefined,
): Promise<void> {
  if (!user) return;
  const r = await run("chown", ["-R", `${user.uid}:${user.gid}`, path]);
  if (r.code !== 0) throw new Error(`chown ${path} failed: ${r.stderr.trim()}`);
}

/**
 * Whether a process with this pid runs (via /proc). A zombie does not: it
 * holds no port, file or shared memory, and an orphan's zombie lasts as
 * long as the host's init takes to reap it (seconds on some machines).
 */
export function processExists(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat[stat.lastIndexOf(")") + 2] !== "Z";
  } catch {
    return false;
  }
}

/** The working directory of `pid`, or null if it is gone or unreadable. */
export function processCwd(pid: number): string | null {
  try {
    return Deno.readLinkSync(`/proc/${pid}/cwd`);
  } catch {
    return null;
  }
}

/** The parent pid of `pid`, or null if it is gone. */
export function parentPid(pid: number): number | null {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // Field 4, after the parenthesised command name (which may hold spaces).
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(rest[1]);
  } catch {
    return null;
  }
}

/**
 * Pids of every process whose working directory is `dir`. Postgres server
 * processes chdir into their cluster directory, so after a postmaster was
 * killed this finds its orphaned children that still hold shared memory.
 */
export function processesInDir(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const pid = Number(entry.name);
    if (pid === Deno.pid) continue;
    if (processCwd(pid) === dir) pids.push(pid);
  }
  return pids;
}

/**
 * When `pid` started, in clock ticks since boot (field 22 of /proc/PID/stat),
 * or null if it is gone. With the pid it names one process for good: a pid
 * reused after a kill -9 has another start time.
 */
export function processStartTime(pid: number): number | null {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(rest[19]);
  } catch {
    return null;
  }
}

/** The argv of `pid`, or null if it is gone or unreadable. */
export function processArgv(pid: number): string[] | null {
  try {
    const raw = Deno.readTextFileSync(`/proc/${pid}/cmdline`);
    return raw.split("\u0000").filter((a, i, all) =>
      a !== "" || i < all.length - 1
    );
  } catch {
    return null;
  }
}

/** `path` with symlinks resolved, or `path` itself when it cannot be resolved. */
export function realPath(path: string): string {
  try {
    return Deno.realPathSync(path);
  } catch {
    return path;
  }
}
