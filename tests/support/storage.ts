/**
 * A storage node process for integration tests, beside a {@link TestCluster}:
 * `main.ts storage` dialing the test manager, its data dir inside the
 * cluster's (so the cluster's stop unmounts and removes its host volumes).
 *
 * @module
 */

import type { TestCluster } from "./cluster.ts";
import { eventually } from "./eventually.ts";
import { freePort } from "./ports.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** A running storage node. */
export interface StorageProc {
  id: string;
  port: number;
  /** The base URL it hands to clients. */
  url: string;
  dataDir: string;
  /** Where host `local` lives (its volume's mountpoint). */
  localRoot: string;
  kill(signal?: Deno.Signal): Promise<void>;
  /** Starts it again with the same id, port and data dir. */
  restart(): Promise<void>;
}

/** Options of {@link startStorageNode}. */
export interface StorageNodeOptions {
  id?: string;
  /** Extra `--host` specs (`NAME` or `NAME=/PATH`); `local` is always there. */
  hosts?: string[];
  /** Size of each new btrfs host image. @default {"2g"} */
  hostSize?: string;
  logs?: boolean;
}

/** Starts a storage node and waits until the manager lists its hosts. */
export async function startStorageNode(
  c: TestCluster,
  options: StorageNodeOptions = {},
): Promise<StorageProc> {
  const id = options.id ?? `storage-${crypto.randomUUID().slice(0, 8)}`;
  const port = freePort();
  const dataDir = `${c.dataDir}/${id}`;
  const hosts = ["local", ...(options.hosts ?? [])];
  const io = options.logs ?? Deno.env.get("TEST_LOGS") === "1"
    ? "inherit"
    : "null";
  let proc!: Deno.ChildProcess;
  const spawn = async () => {
    proc = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        MAIN,
        "storage",
        "--manager",
        `ws://127.0.0.1:${c.port}`,
        "--id",
        id,
        "--data-dir",
        dataDir,
        "--hostname",
        "127.0.0.1",
        "--port",
        String(port),
        "--host-size",
        options.hostSize ?? "2g",
        ...hosts.flatMap((h) => ["--host", h]),
      ],
      env: { CLUSTER_SECRET: c.clusterSecret },
      stdin: "null",
      stdout: io,
      stderr: io,
    }).spawn();
    const names = hosts.map((h) => h.split("=")[0]);
    await eventually(`storage node ${id} to join`, async () => {
      const r = await c.json<{ allowed: string[] }>("GET", "/folders/_/hosts");
      return names.every((n) => r.allowed.includes(n)) ? true : undefined;
    }, 60_000);
  };
  await spawn();
  return {
    id,
    port,
    url: `http://127.0.0.1:${port}`,
    dataDir,
    localRoot: `${dataDir}/hosts/local`,
    async kill(signal = "SIGKILL") {
      try {
        proc.kill(signal);
      } catch { /* gone */ }
      await proc.status;
    },
    async restart() {
      try {
        proc.kill("SIGKILL");
      } catch { /* gone */ }
      await proc.status;
      await spawn();
    },
  };
}
