/**
 * Folder mounts of a new session: `config.mounts` (names) and
 * `config.mountMap` (name → path) resolved to what the agent bind-mounts,
 * before any container starts. An unknown folder is 404
 * vfolder-not-found; a folder whose host no storage node serves is 503;
 * a `ro` folder is mounted read-only (EROFS inside the kernel).
 *
 * The scheduler must then place the session only on an agent that sees
 * every host in {@link requiredHosts} (policies/vfolder.ts
 * `agentSeesHosts(agent.storageHosts, requiredHosts(mounts))`).
 *
 * @module
 */

import { mountTarget } from "../../../policies/vfolder.ts";
import { DomainError } from "../errors.ts";
import type { ResolvedMount } from "../port/folders.ts";
import type { FolderRepo } from "./repo.ts";
import type { StorageClient } from "./storage_client.ts";

/** The mount part of a create request (names as the client sent them). */
export interface MountRequest {
  config: { mounts: string[]; mountMap: Record<string, string> };
}

/** Resolves mounts of `accessKey`'s session; see the module doc. */
export type ResolveMounts = (
  accessKey: string,
  req: MountRequest,
) => Promise<ResolvedMount[]>;

/** Builds {@link ResolveMounts} over the folder rows and the storage registry. */
export function createMountResolver(
  repo: FolderRepo,
  storage: StorageClient,
): ResolveMounts {
  return async (accessKey, req) => {
    const names = [
      ...new Set([...req.config.mounts, ...Object.keys(req.config.mountMap)]),
    ];
    const out: ResolvedMount[] = [];
    const targets = new Set<string>();
    for (const name of names) {
      const row = await repo.byName(accessKey, name);
      if (!row || row.status !== "ready") {
        throw new DomainError(
          "vfolder-not-found",
          `No such virtual folder: ${name}`,
          { folders: [name] },
        );
      }
      const target = mountTarget(name, req.config.mountMap);
      if (typeof target !== "string") {
        throw new DomainError(
          "invalid-api-params",
          `mount path of ${name}: ${target.problem}`,
        );
      }
      if (targets.has(target)) {
        throw new DomainError(
          "invalid-api-params",
          `two folders are mounted at ${target}`,
        );
      }
      targets.add(target);
      const route = await storage.need(row.host);
      out.push({
        name,
        folderId: row.id,
        host: row.host,
        hostPath: `${route.host.path}/${row.id}/data`,
        containerPath: target,
        readOnly: row.permission === "ro",
      });
    }
    await repo.touch(out.map((m) => m.folderId)).catch(() => undefined);
    return out;
  };
}

/** The storage hosts a session's agent must see. */
export function requiredHosts(mounts: readonly ResolvedMount[]): string[] {
  return [...new Set(mounts.map((m) => m.host))];
}
