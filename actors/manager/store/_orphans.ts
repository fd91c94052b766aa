/**
 * Taking over a cluster directory whose previous owner died: after a kill -9
 * of the manager, its postmaster may still run (shutting down, or orphaned
 * for good when no death signal reached it) and hold the port, the shared
 * memory and `postmaster.pid`. A new manager of the same data dir stops it,
 * but only once it is sure of two things: the process really is that
 * cluster's postmaster (its argv names the cluster dir, or it works in it),
 * and no live manager owns it (`<dataDir>/postgres.owner` records the
 * owning manager's pid and start time, so a recycled pid is not mistaken
 * for it). Internal to embedded.ts.
 *
 * @module
 */
import { ClusterInUseError } from "./errors.ts";
import { join } from "./_path.ts";
import {
  parentPid,
  processArgv,
  processCwd,
  processesInDir,
  processExists,
  processStartTime,
  realPath,
} from "./_os.ts";

/** Who started the running postmaster, as `<dataDir>/postgres.owner` records it. */
export interface ClusterOwner {
  /** The manager process. */
  pid: number;
  /** Its start time (/proc/PID/stat field 22), against pid reuse. */
  start: number | null;
}

const ownerFile = (dataDir: string) => join(dataDir, "postgres.owner");

/** Records this process as the owner of the postmaster it just started. */
export async function recordOwner(dataDir: string): Promise<void> {
  const owner: ClusterOwner = {
    pid: Deno.pid,
    start: processStartTime(Deno.pid),
  };
  await Deno.writeTextFile(ownerFile(dataDir), JSON.stringify(owner) + "\n");
}

/** Forgets the owner record (the postmaster was stopped cleanly). */
export async function clearOwner(dataDir: string): Promise<void> {
  await Deno.remove(ownerFile(dataDir)).catch(() => {});
}

async function readOwner(dataDir: string): Promise<ClusterOwner | undefined> {
  try {
    const o = JSON.parse(await Deno.readTextFile(ownerFile(dataDir)));
    return typeof o?.pid === "number" ? o : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the recorded owner is still that same live process (this one included). */
function ownerAlive(owner: ClusterOwner): boolean {
  if (!processExists(owner.pid)) return false;
  return owner.start === null || processStartTime(owner.pid) === owner.start;
}

/** Whether `pid` is a server process of `clusterDir` (argv `-D dir`, or its cwd). */
export function servesCluster(pid: number, clusterDir: string): boolean {
  const want = realPath(clusterDir);
  const argv = processArgv(pid) ?? [];
  const d = argv.indexOf("-D");
  if (d >= 0 && argv[d + 1] && realPath(argv[d + 1]) === want) return true;
  const cwd = processCwd(pid);
  return cwd !== null && realPath(cwd) === want;
}

/** Options of {@link takeOverCluster}. */
export interface TakeOverOptions {
  log: (line: string) => void;
  /** Per signal: fast shutdown, then immediate, then SIGKILL. @default {[15000, 5000, 5000]} */
  graceMs?: [number, number, number];
}

/**
 * Makes sure no earlier server of `clusterDir` blocks a start: a postmaster
 * of a dead owner is stopped (SIGINT, then SIGQUIT, then SIGKILL), a stale
 * `postmaster.pid` is removed, and leftover server children are waited for
 * (and killed if they linger). Throws {@link ClusterInUseError} while a live
 * manager owns the cluster.
 */
export async function takeOverCluster(
  clusterDir: string,
  dataDir: string,
  options: TakeOverOptions,
): Promise<void> {
  const { log } = options;
  const [intMs, quitMs, killMs] = options.graceMs ?? [15_000, 5_000, 5_000];
  const pidFile = join(clusterDir, "postmaster.pid");
  let text: string | undefined;
  try {
    text = await Deno.readTextFile(pidFile);
  } catch {
    // No pid file: nothing to clear.
  }
  if (text !== undefined) {
    const pid = Number(text.split("\n")[0]);
    if (pid > 0 && processExists(pid) && servesCluster(pid, clusterDir)) {
      const owner = await readOwner(dataDir);
      if (owner ? ownerAlive(owner) : legacyOwnerAlive(pid)) {
        throw new ClusterInUseError(clusterDir, pid);
      }
      log(
        `embedded postgres: stopping orphaned postmaster ${pid} of ${clusterDir} (its manager is gone)`,
      );
      const steps: [Deno.Signal, number][] = [
        ["SIGINT", intMs],
        ["SIGQUIT", quitMs],
        ["SIGKILL", killMs],
      ];
      for (const [signal, waitMs] of steps) {
        try {
          Deno.kill(pid, signal);
        } catch {
          break; // Gone already.
        }
        if (await waitUntil(() => !processExists(pid), waitMs)) break;
      }
    }
    await Deno.remove(pidFile).catch(() => {});
    log(
      `embedded postgres: removed stale postmaster.pid of ${clusterDir} (pid ${pid})`,
    );
  }
  // Children of a dead postmaster notice and exit on their own; a stuck
  // one would keep the shared memory and the new server from starting.
  const dir = realPath(clusterDir);
  const leftovers =
    () => [...new Set([...processesInDir(dir), ...processesInDir(clusterDir)])];
  if (!(await waitUntil(() => leftovers().length === 0, 10_000))) {
    const owner = await readOwner(dataDir);
    if (owner && ownerAlive(owner)) {
      throw new ClusterInUseError(clusterDir, leftovers()[0] ?? 0);
    }
    for (const pid of leftovers()) {
      log(`embedded postgres: killing leftover server process ${pid}`);
      try {
        Deno.kill(pid, "SIGKILL");
      } catch { /* gone */ }
    }
    if (!(await waitUntil(() => leftovers().length === 0, 5_000))) {
      throw new ClusterInUseError(clusterDir, leftovers()[0] ?? 0);
    }
  }
}

/**
 * A data dir from before the owner record: the postmaster's parent, if it
 * is still alive and a deno process, is taken for its manager.
 */
function legacyOwnerAlive(postmaster: number): boolean {
  const ppid = parentPid(postmaster);
  if (ppid === null || ppid === 1 || !processExists(ppid)) return false;
  const argv0 = processArgv(ppid)?.[0] ?? "";
  return argv0.endsWith("deno");
}

async function waitUntil(
  predicate: () => boolean,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
  return true;
}
