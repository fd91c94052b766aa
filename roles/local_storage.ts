/**
 * The storage node `deno task start` runs beside its manager: a child
 * process (`main.ts storage`) with the host `local` under
 * `DATA_DIR/storage`, restarted if it dies, like the local agent.
 *
 * @module
 */

/** A supervised local storage node. */
export interface LocalStorage {
  stop(): Promise<void>;
}

function portFree(port: number): boolean {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
    return true;
  } catch {
    return false;
  }
}

/** Starts the storage child dialing the manager at `managerUrl`. */
export function startLocalStorage(
  opts: { managerUrl: string; dataDir: string; clusterSecret: string },
): LocalStorage {
  const wanted = Number(Deno.env.get("STORAGE_PORT") ?? 6021);
  // A second cluster on this host takes any free port (clients get the URL with their token).
  const port = portFree(wanted) ? wanted : 0;
  const args = [
    "run",
    "-A",
    new URL("../main.ts", import.meta.url).pathname,
    "storage",
    "--manager",
    opts.managerUrl,
    "--id",
    "storage-local",
    "--data-dir",
    `${opts.dataDir}/storage`,
    "--hostname",
    "127.0.0.1",
    "--port",
    String(port),
  ];
  let stopping = false;
  let child: Deno.ChildProcess | undefined;
  const spawn = () => {
    child = new Deno.Command(Deno.execPath(), {
      args,
      env: {
        CLUSTER_SECRET: opts.clusterSecret,
        BAI_EXIT_WITH_PARENT: String(Deno.pid),
      },
      stdin: "null",
    }).spawn();
    child.status.then((s) => {
      if (stopping) return;
      console.error(
        `start: storage node exited (code ${s.code}); restarting in 1 s`,
      );
      setTimeout(() => !stopping && spawn(), 1000);
    });
  };
  spawn();
  return {
    async stop() {
      stopping = true;
      try {
        child?.kill("SIGTERM");
        await child?.status;
      } catch { /* already gone */ }
    },
  };
}
