/**
 * Resetting a pool container after its session, so it serves the next one
 * instead of being destroyed and replaced: a create and a remove cost the
 * engine about a quarter of a CPU second, a reset a few milliseconds.
 *
 * Nothing of a session may reach the next, so the agent drives the reset
 * from the host and checks each step there rather than trusting anything
 * inside (the runner ran the session's code; only the container's init did
 * not, see images/runner/bai_init.py):
 *
 * 1. SIGUSR1 to the init: it kills every other process and empties /tmp,
 *    /dev/shm, /dev/mqueue and System V IPC.
 * 2. The container's cgroup holds the init alone, and those dirs are empty
 *    (read through `/proc/<init>/root` from the host).
 * 3. The agent empties the work dir (as root, links not followed), forgets
 *    the record, resets the scratch limit and the cgroup's usage counters
 *    (the next session is billed from zero), writes a fresh random token
 *    for the init and to the runner's stdin.
 * 4. SIGUSR2 to the init: it starts a new runner, whose `ready` is read
 *    after the token, so nothing a previous runner left in the pipes counts.
 *
 * A step that fails or takes too long throws {@linkcode ResetFailed}: the
 * caller destroys the container as before.
 *
 * @module
 */

import type { DockerClient } from "../docker/client.ts";
import type { LaunchedKernel } from "../kernel/launcher.ts";
import { resetKernelDirs } from "../kernel/workdir.ts";
import { containerCgroupDir, resetUsageCounters } from "../metering/cgroup.ts";

/** A container that could not be reset (it is destroyed instead). */
export class ResetFailed extends Error {
  override name = "ResetFailed";
}

/** Options of {@linkcode resetKernel}. */
export interface ResetOptions {
  /** cgroup v1 root. @default "/sys/fs/cgroup" */
  cgroupRoot?: string;
  /** Longest a reset may take. @default {5000} */
  timeoutMs?: number;
}

/** Dirs inside the container the init empties (checked from the host). */
const TMP_DIRS = ["tmp", "dev/shm", "dev/mqueue"];

/** The token file the init reads (in the work dir: /home/work/.bai-reset). */
const TOKEN_FILE = ".bai-reset";

/** Resets `k` for another session; throws {@linkcode ResetFailed}. */
export async function resetKernel(
  docker: DockerClient,
  k: LaunchedKernel,
  options: ResetOptions = {},
): Promise<void> {
  const conn = k.connection;
  if (!conn.ready.resettable || conn.isDead) {
    throw new ResetFailed("its runner has no init that resets");
  }
  const root = options.cgroupRoot ?? "/sys/fs/cgroup";
  const deadline = Date.now() + (options.timeoutMs ?? 5_000);
  const info = await docker.inspectContainer(k.containerId);
  const pid = info.State.Pid;
  if (!info.State.Running || info.State.Paused || !pid) {
    throw new ResetFailed("not running");
  }
  k.resetAt = Date.now();
  const procsFile = `${
    containerCgroupDir(k.containerId, "pids", root)
  }/cgroup.procs`;
  Deno.kill(pid, "SIGUSR1");
  await until(deadline, "the init alone in its cgroup", async () => {
    const procs = (await Deno.readTextFile(procsFile))
      .split("\n").filter(Boolean).map(Number);
    return procs.length === 1 && procs[0] === pid;
  });
  await until(deadline, "/tmp, /dev/shm and /dev/mqueue empty", async () => {
    for (const d of TMP_DIRS) {
      try {
        for await (const _ of Deno.readDir(`/proc/${pid}/root/${d}`)) {
          return false;
        }
      } catch (e) {
        // An engine that mounts no /dev/mqueue (say): nothing to empty.
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
    }
    return true;
  });
  await resetKernelDirs(k.dirs);
  await resetUsageCounters(k.containerId, root);
  const token = randomToken();
  await Deno.writeTextFile(`${k.dirs.work}/${TOKEN_FILE}`, token, {
    createNew: true,
    mode: 0o644,
  });
  const ready = conn.resync(new TextEncoder().encode(token));
  Deno.kill(pid, "SIGUSR2");
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      ready,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new ResetFailed("no ready from the new runner")),
          Math.max(0, deadline - Date.now()),
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `check` every millisecond until it holds; ResetFailed at the deadline. */
async function until(
  deadline: number,
  what: string,
  check: () => Promise<boolean>,
): Promise<void> {
  for (;;) {
    try {
      if (await check()) return;
    } catch (e) {
      throw new ResetFailed(`${what}: ${e instanceof Error ? e.message : e}`);
    }
    if (Date.now() > deadline) throw new ResetFailed(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** 32 random bytes, hex: what no process of the last session can have seen. */
function randomToken(): string {
  return crypto.getRandomValues(new Uint8Array(32)).toHex();
}
