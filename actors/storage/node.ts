/**
 * `deno task storage --manager ws://HOST:PORT`: a storage node. It dials the
 * manager's cluster endpoint like an agent, runs one StorageActor at
 * `/user/storage`, and serves uploads (tus) and downloads on its own HTTP
 * port, whose URL the manager hands to clients with their tokens.
 *
 * Hosts: `--host NAME` (repeatable; default `local`) is a btrfs quota
 * volume under the data dir; `--host NAME=/PATH` is a plain directory such
 * as an NFS mount (no quotas). Agents that see a host at the same path
 * (its marker file) can mount its folders.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { ActorSystem } from "../runtime/mod.ts";
import type { ActorRef } from "../runtime/types.ts";
import { Cluster } from "../cluster/mod.ts";
import {
  STORAGE_PATH,
  StorageMsg,
  type StorageRegistryMsg,
} from "../protocol/storage.ts";
import { type HostSpec, StorageHost } from "./hosts.ts";
import { TokenSigner } from "./tokens.ts";
import { TusUploads } from "./tus.ts";
import { storageHandler } from "./http.ts";
import { StorageActor, type StorageInternalMsg } from "./storage_actor.ts";
import { parseBinarySize } from "../../policies/slots.ts";

export const STORAGE_VERSION = "0.1.0";

export interface StorageConfig {
  manager: string;
  id: string;
  dataDir: string;
  clusterSecret: string;
  hostname: string;
  /** HTTP port for uploads and downloads (0: any free one). */
  port: number;
  /** Base URL clients use; @default `http://127.0.0.1:PORT` */
  publicUrl?: string;
  hosts: HostSpec[];
  /** Size of a new btrfs host image. */
  hostSizeBytes: number;
}

export function parseStorageConfig(
  args: string[],
  env = Deno.env.toObject(),
): StorageConfig {
  const { values } = parseArgs({
    args,
    options: {
      manager: { type: "string" },
      id: { type: "string" },
      "data-dir": { type: "string" },
      "cluster-secret": { type: "string" },
      hostname: { type: "string" },
      port: { type: "string" },
      "public-url": { type: "string" },
      host: { type: "string", multiple: true },
      "host-size": { type: "string" },
    },
    strict: true,
  });
  const manager = values.manager ?? env.MANAGER_URL;
  if (!manager) {
    throw new Error("storage: --manager ws://HOST:PORT is required");
  }
  const clusterSecret = values["cluster-secret"] ?? env.CLUSTER_SECRET;
  if (!clusterSecret) {
    throw new Error("storage: --cluster-secret or CLUSTER_SECRET is required");
  }
  const port = Number(values.port ?? env.STORAGE_PORT ?? 6021);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`storage: invalid port ${values.port}`);
  }
  const hosts = (values.host?.length ? values.host : ["local"]).map(
    (h): HostSpec => {
      const eq = h.indexOf("=");
      const name = eq < 0 ? h : h.slice(0, eq);
      if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/.test(name)) {
        throw new Error(`storage: bad host name ${JSON.stringify(name)}`);
      }
      return eq < 0 ? { name } : { name, path: resolve(h.slice(eq + 1)) };
    },
  );
  const size = parseBinarySize(
    values["host-size"] ?? env.STORAGE_HOST_SIZE ?? "64g",
  );
  return {
    manager,
    id: values.id ?? env.STORAGE_ID ?? `storage-${Deno.hostname()}`,
    dataDir: resolve(values["data-dir"] ?? env.DATA_DIR ?? "./var/storage"),
    clusterSecret,
    hostname: values.hostname ?? "0.0.0.0",
    port,
    publicUrl: values["public-url"] ?? env.STORAGE_PUBLIC_URL,
    hosts,
    hostSizeBytes: size,
  };
}

/** Starts a storage node; resolves once its HTTP port listens and it dialed the manager. */
export async function startStorage(config: StorageConfig) {
  const hosts = new Map<string, StorageHost>();
  for (const spec of config.hosts) {
    hosts.set(
      spec.name,
      await StorageHost.open(spec, config.dataDir, config.hostSizeBytes),
    );
  }
  const signer = await TokenSigner.fromSecret(config.clusterSecret);
  let actor!: StorageActor;
  const tus = new TusUploads({
    host: (name) => hosts.get(name),
    freeBytes: (h, id) => actor.freeBytes(h, id),
  });
  const server = Deno.serve(
    {
      hostname: config.hostname,
      port: config.port,
      onListen: () => {},
    },
    storageHandler({
      nodeId: config.id,
      version: STORAGE_VERSION,
      signer,
      tus,
      host: (name) => hosts.get(name),
    }),
  );
  const port = server.addr.port;
  const url = (config.publicUrl ?? `http://127.0.0.1:${port}`).replace(
    /\/$/,
    "",
  );

  const managerUrl = config.manager.replace(/\/$/, "") +
    (config.manager.includes("/x/cluster") ? "" : "/x/cluster");
  const system = new ActorSystem({ nodeId: config.id });
  const cluster = new Cluster(system, { secret: config.clusterSecret });
  system.setTransport(cluster);
  cluster.registerSchema(STORAGE_PATH, StorageMsg);
  const managerNode = await cluster.dial(managerUrl);
  const registry = system.refFor<StorageRegistryMsg>({
    node: managerNode,
    path: STORAGE_PATH,
  });
  const ref = system.spawn(
    () => (actor = new StorageActor({
      id: config.id,
      url,
      version: STORAGE_VERSION,
      hosts,
      registry,
      signer,
      tus,
      heartbeatMs: 2000,
    })),
    { name: "storage" },
  ) as ActorRef<StorageMsg | StorageInternalMsg>;
  const rejoin = (e: { node: string }) => {
    if (e.node === managerNode) ref.tell({ type: "rejoin" });
  };
  cluster.on("up", rejoin);
  cluster.on("reachable", rejoin);
  console.error(
    `storage ${config.id}: serving ${url} (hosts ${
      [...hosts.values()].map((h) => `${h.name}=${h.root} (${h.volume.kind})`)
        .join(", ")
    }), joined ${managerUrl}`,
  );

  async function stop(): Promise<void> {
    registry.tell({ type: "storage.leave", id: config.id });
    await new Promise((r) => setTimeout(r, 100));
    await system.shutdown({ deadlineMs: 5000 });
    await cluster.close();
    await server.shutdown();
  }
  return { system, cluster, hosts, url, port, stop };
}

export async function run(args: string[]): Promise<void> {
  const node = await startStorage(parseStorageConfig(args));
  const stop = async () => {
    await node.stop();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}
