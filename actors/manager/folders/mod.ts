/**
 * Virtual folders on the manager: the storage registry actor that storage
 * nodes (and agents, asking for hosts) talk to, the folder service behind
 * the port's `folders`, and the mount resolver session creation calls.
 *
 * ```ts ignore
 * const folders = startFolders({ system, cluster, sql: store.sql });
 * deps.folders = folders.deps;                      // the /folders routes
 * const mounts = await folders.resolveMounts(ak, req); // before a session starts
 * ```
 *
 * @module
 */

import type postgres from "postgres";
import type { ActorSystem } from "../../runtime/mod.ts";
import type { ActorRef } from "../../runtime/types.ts";
import type { Cluster } from "../../cluster/mod.ts";
import { STORAGE_PATH, StorageRegistryMsg } from "../../protocol/storage.ts";
import type { FolderDeps } from "../port/folders.ts";
import { FolderRepo } from "./repo.ts";
import { StorageRegistryActor, type StorageRegistryQuery } from "./registry.ts";
import { StorageClient } from "./storage_client.ts";
import { createFolderService } from "./service.ts";
import { createMountResolver, type ResolveMounts } from "./mounts.ts";

export { requiredHosts, type ResolveMounts } from "./mounts.ts";
export { FolderRepo } from "./repo.ts";
export { StorageClient } from "./storage_client.ts";

/** Options of {@link startFolders}. */
export interface FoldersOptions {
  system: ActorSystem;
  cluster: Cluster;
  sql: postgres.Sql;
  /** Host of folders created without one. @default {"local"} */
  defaultHost?: string;
}

/** What the manager wires. */
export interface Folders {
  /** The port's folder operations. */
  deps: FolderDeps;
  /** Session creation: folder names → agent mounts (throws vfolder-not-found). */
  resolveMounts: ResolveMounts;
  /** The folder limits of a keypair's policy (scratch quota included). */
  repo: FolderRepo;
  registry: ActorRef<StorageRegistryMsg | StorageRegistryQuery>;
}

/** Spawns the storage registry at `/user/storage` and builds the folder service. */
export function startFolders(o: FoldersOptions): Folders {
  o.cluster.registerSchema(STORAGE_PATH, StorageRegistryMsg);
  const registry = o.system.spawn(() => new StorageRegistryActor(), {
    name: STORAGE_PATH.split("/").pop()!,
  }) as ActorRef<StorageRegistryMsg | StorageRegistryQuery>;
  const repo = new FolderRepo(o.sql);
  const storage = new StorageClient(registry);
  return {
    deps: createFolderService({ repo, storage, defaultHost: o.defaultHost }),
    resolveMounts: createMountResolver(repo, storage),
    repo,
    registry,
  };
}
