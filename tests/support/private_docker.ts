/**
 * A private Docker engine for fault tests: a second `dockerd` with its own
 * socket, data root and exec root under a temp dir, so a test can stop and
 * restart an engine under an agent (`--docker-socket`) without touching the
 * shared engine other tests use. Kernel images are copied in from the
 * shared engine (`docker save | docker load`).
 *
 * @module
 */

/** A running private engine. */
export interface PrivateDocker {
  /** Unix socket path (for `--docker-socket`). */
  socket: string;
  /** Copies `image` from the shared engine into this one. */
  load(image: string): Promise<void>;
  /** Stops the engine as its init script would (SIGTERM; it stops its containers). */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it and removes everything it stored. */
  destroy(): Promise<void>;
}

async function sh(script: string): Promise<string> {
  const out = await new Deno.Command("bash", {
    args: ["-c", script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) +
    new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`${script}: ${text}`);
  return text;
}

/** Whether `dockerd` is installed (the private engine needs it). */
export function hasDockerd(): boolean {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      Deno.statSync(`${dir}/dockerd`);
      return true;
    } catch { /* next */ }
  }
  return false;
}

/** Starts a private engine and waits until it answers. */
export async function startPrivateDocker(): Promise<PrivateDocker> {
  const dir = await Deno.makeTempDir({ prefix: "bai-dockerd-" });
  const socket = `${dir}/docker.sock`;
  let proc: Deno.ChildProcess | undefined;
  const start = async () => {
    proc = new Deno.Command("bash", {
      // exec: the pid is dockerd's own, so SIGTERM reaches it.
      args: [
        "-c",
        `exec dockerd --host unix://${socket} --data-root ${dir}/data ` +
        `--exec-root ${dir}/exec --pidfile ${dir}/docker.pid ` +
        `--iptables=false --ip6tables=false --bridge=none >>${dir}/dockerd.log 2>&1`,
      ],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    for (let i = 0; i < 120; i++) {
      try {
        await sh(`docker -H unix://${socket} info >/dev/null 2>&1`);
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    throw new Error(`private dockerd did not answer; see ${dir}/dockerd.log`);
  };
  const stop = async () => {
    if (!proc) return;
    try {
      proc.kill("SIGTERM");
    } catch { /* gone */ }
    await proc.status;
    proc = undefined;
  };
  await start();
  return {
    socket,
    async load(image) {
      await sh(`docker save ${image} | docker -H unix://${socket} load`);
    },
    stop,
    start,
    async destroy() {
      if (proc) {
        await sh(
          `ids=$(docker -H unix://${socket} ps -aq); [ -z "$ids" ] || docker -H unix://${socket} rm -f $ids`,
        ).catch(() => "");
      }
      await stop();
      await sh(`umount -R ${dir}/data/overlay2 2>/dev/null; rm -rf ${dir}`)
        .catch(() => "");
    },
  };
}
