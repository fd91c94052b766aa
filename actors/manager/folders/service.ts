/**
 * The folder operations of the port (port/folders.ts): rows in the store,
 * bytes on storage nodes. A folder is created in two steps (row
 * `creating`, then the storage node makes its quota dir, then `ready`) and
 * deleted in two (`deleting`, storage removes it, row gone), so a failure
 * half-way leaves no folder that looks usable. Every path is checked here
 * for syntax and by the storage node against the real filesystem.
 *
 * @module
 */

import {
  fileNameProblem,
  folderNameProblem,
  folderPathSegments,
} from "../../../policies/vfolder.ts";
import { admitVfolder } from "../../../policies/admission.ts";
import { StorageReply } from "../../protocol/storage.ts";
import type { Caller } from "../port/keypairs.ts";
import type {
  AdminFolderFilter,
  CreateFolderRequest,
  FolderDeps,
  FolderInfo,
  FolderView,
} from "../port/folders.ts";
import { DomainError } from "../errors.ts";
import { FolderNameTaken, type FolderRepo, type FolderRow } from "./repo.ts";
import type { StorageClient } from "./storage_client.ts";
import { adminFolderView, fileListView, folderView } from "./views.ts";

/** What the folder service needs. */
export interface FolderServiceDeps {
  repo: FolderRepo;
  storage: StorageClient;
  /** The host new folders go to when none is named. @default {"local"} */
  defaultHost?: string;
}

const notFound = (name: string) =>
  new DomainError("vfolder-not-found", `No such virtual folder: ${name}`, {
    name,
  });

function checkPath(path: string): void {
  const segs = folderPathSegments(path);
  if (!Array.isArray(segs)) {
    throw new DomainError("invalid-api-params", segs.problem, { path });
  }
}

/** Serializes the creates of one keypair (the folder count is checked then used). */
function keyedLock() {
  const tails = new Map<string, Promise<unknown>>();
  return async <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const prev = tails.get(key) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    tails.set(key, tail);
    try {
      return await run;
    } finally {
      if (tails.get(key) === tail) tails.delete(key);
    }
  };
}

/** Builds the folder port over the store and the storage nodes. */
export function createFolderService(d: FolderServiceDeps): FolderDeps {
  const { repo, storage } = d;
  const lock = keyedLock();

  const folder = async (caller: Caller, name: string): Promise<FolderRow> => {
    const row = await repo.byName(caller.accessKey, name);
    if (!row || row.status !== "ready") throw notFound(name);
    return row;
  };
  const writable = async (caller: Caller, name: string) => {
    const row = await folder(caller, name);
    if (row.permission === "ro") {
      throw new DomainError(
        "generic-forbidden",
        `The virtual folder ${name} is read-only`,
      );
    }
    return row;
  };
  const ref = (row: FolderRow) => ({ host: row.host, folderId: row.id });

  const defaultHost = async (): Promise<string | null> => {
    const hosts = (await storage.hosts()).map((h) => h.name);
    const want = d.defaultHost ?? "local";
    return hosts.includes(want) ? want : hosts[0] ?? null;
  };

  /** Refreshes the usage of rows from their storage nodes (best effort). */
  const refreshUsage = async (rows: FolderRow[]): Promise<void> => {
    const byHost = new Map<string, FolderRow[]>();
    for (const r of rows) {
      if (r.status !== "ready") continue;
      byHost.set(r.host, [...(byHost.get(r.host) ?? []), r]);
    }
    for (const [host, list] of byHost) {
      try {
        const { usage } = await storage.ask({
          type: "folder.usage",
          host,
          folderIds: list.map((r) => r.id),
        }, StorageReply.usage);
        for (const u of usage) {
          const r = list.find((x) => x.id === u.folderId);
          if (!r) continue;
          r.usedBytes = u.usedBytes;
          r.usageAt = new Date();
          await repo.setUsage(r.id, u.usedBytes);
        }
      } catch { /* host down: keep the last figures */ }
    }
  };

  return {
    async hosts() {
      const hosts = await storage.hosts();
      return {
        default: await defaultHost(),
        allowed: hosts.map((h) => h.name),
        volume_info: Object.fromEntries(hosts.map((h) => [h.name, {
          backend: h.kind,
          capabilities: h.kind === "btrfs" ? ["quota"] : [],
          usage: { capacity_bytes: h.totalBytes, free_bytes: h.freeBytes },
        }])),
      };
    },

    allowedTypes: () => Promise.resolve(["user"]),

    create(caller, req: CreateFolderRequest): Promise<FolderView> {
      const problem = folderNameProblem(req.name);
      if (problem) {
        return Promise.reject(
          new DomainError("invalid-api-params", problem, { name: req.name }),
        );
      }
      if (req.group) {
        return Promise.reject(
          new DomainError(
            "invalid-api-params",
            "group folders are not supported; create a user folder",
          ),
        );
      }
      return lock(caller.accessKey, async () => {
        const limits = await repo.limits(caller.accessKey);
        if (!limits) {
          throw new DomainError("object-not-found", "No such keypair.");
        }
        const asked = req.quota && req.quota > 0 ? req.quota : undefined;
        const admission = admitVfolder(
          {
            total_resource_slots: {},
            max_vfolder_count: limits.maxCount,
            max_vfolder_size: limits.maxSize,
          },
          { count: await repo.count(caller.accessKey) },
          { quota: asked },
        );
        if (!admission.ok) {
          throw new DomainError(
            "quota-exceeded",
            admission.error.message,
            admission.error.toProblemData(),
          );
        }
        const quota = asked ?? (limits.maxSize > 0 ? limits.maxSize : null);
        const host = req.host ?? await defaultHost();
        if (!host) {
          throw new DomainError(
            "service-unavailable",
            "no storage host is connected",
          );
        }
        const route = await storage.route(host);
        if (!route) {
          throw new DomainError(
            "invalid-api-params",
            `No such storage host (or it is not connected): ${host}`,
            { host },
          );
        }
        if (quota !== null && route.host.kind !== "btrfs") {
          throw new DomainError(
            "invalid-api-params",
            `storage host ${host} cannot enforce a quota; create the folder without one`,
          );
        }
        let row: FolderRow;
        try {
          row = await repo.insert({
            id: crypto.randomUUID(),
            name: req.name,
            host,
            accessKey: caller.accessKey,
            permission: req.permission,
            quota,
            usageMode: req.usageMode,
            cloneable: req.cloneable,
          });
        } catch (e) {
          if (e instanceof FolderNameTaken) {
            throw new DomainError(
              "vfolder-already-exists",
              `A virtual folder named ${req.name} already exists`,
            );
          }
          throw e;
        }
        try {
          await storage.ask(
            { type: "folder.create", ...ref(row), quota },
            StorageReply.created,
          );
        } catch (e) {
          await repo.delete(row.id).catch(() => undefined);
          throw e;
        }
        await repo.setStatus(row.id, "ready");
        return folderView({ ...row, status: "ready" });
      });
    },

    async list(caller) {
      return (await repo.list(caller.accessKey)).filter((r) =>
        r.status === "ready"
      ).map(folderView);
    },

    async info(caller, name): Promise<FolderInfo> {
      const row = await folder(caller, name);
      await refreshUsage([row]);
      const top = await storage.ask(
        { type: "files.list", ...ref(row), path: "" },
        StorageReply.list,
      ).catch(() => ({ entries: [] }));
      return {
        ...folderView(row),
        numFiles: top.entries.length,
        used_bytes: row.usedBytes ?? 0,
        last_used: row.lastUsed?.toISOString() ?? null,
      };
    },

    async rename(caller, name, newName) {
      const row = await folder(caller, name);
      const problem = folderNameProblem(newName);
      if (problem) throw new DomainError("invalid-api-params", problem);
      try {
        await repo.rename(row.id, newName);
      } catch (e) {
        if (e instanceof FolderNameTaken) {
          throw new DomainError(
            "vfolder-already-exists",
            `A virtual folder named ${newName} already exists`,
          );
        }
        throw e;
      }
    },

    async updateOptions(caller, name, patch) {
      const row = await folder(caller, name);
      await repo.update(row.id, patch);
    },

    async delete(caller, which) {
      const row = "id" in which
        ? await repo.byId(caller.accessKey, which.id)
        : await repo.byName(caller.accessKey, which.name);
      if (!row) throw notFound("id" in which ? which.id : which.name);
      await repo.setStatus(row.id, "deleting");
      try {
        await storage.ask(
          { type: "folder.delete", ...ref(row) },
          StorageReply.ok,
        );
      } catch (e) {
        await repo.setStatus(row.id, "ready");
        throw e;
      }
      await repo.delete(row.id);
    },

    async mkdir(caller, name, path, opts) {
      checkPath(path);
      const row = await writable(caller, name);
      await storage.ask(
        { type: "files.mkdir", ...ref(row), path, ...opts },
        StorageReply.ok,
      );
    },

    async listFiles(caller, name, path) {
      checkPath(path);
      const row = await folder(caller, name);
      const r = await storage.ask(
        { type: "files.list", ...ref(row), path },
        StorageReply.list,
      );
      return fileListView(path, r.entries, r.truncated);
    },

    async renameFile(caller, name, targetPath, newName) {
      checkPath(targetPath);
      const problem = fileNameProblem(newName);
      if (problem) throw new DomainError("invalid-api-params", problem);
      const row = await writable(caller, name);
      await storage.ask(
        { type: "files.rename", ...ref(row), path: targetPath, newName },
        StorageReply.ok,
      );
    },

    async moveFile(caller, name, src, dst) {
      checkPath(src);
      checkPath(dst);
      const row = await writable(caller, name);
      await storage.ask(
        { type: "files.move", ...ref(row), src, dst },
        StorageReply.ok,
      );
    },

    async deleteFiles(caller, name, files, recursive) {
      if (files.length === 0) {
        throw new DomainError("invalid-api-params", "files is required");
      }
      for (const f of files) {
        checkPath(f);
        if ((folderPathSegments(f) as string[]).length === 0) {
          throw new DomainError(
            "invalid-api-params",
            "the folder's root cannot be deleted here (delete the folder)",
          );
        }
      }
      const row = await writable(caller, name);
      await storage.ask(
        { type: "files.delete", ...ref(row), paths: files, recursive },
        StorageReply.ok,
      );
    },

    async requestUpload(caller, name, path, size) {
      checkPath(path);
      const row = await writable(caller, name);
      return await storage.ask(
        { type: "upload.prepare", ...ref(row), path, size },
        StorageReply.transfer,
      );
    },

    async requestDownload(caller, name, path) {
      checkPath(path);
      const row = await folder(caller, name);
      return await storage.ask(
        { type: "download.prepare", ...ref(row), path },
        StorageReply.transfer,
      );
    },

    async upload(caller, name, files) {
      const row = await writable(caller, name);
      for (const f of files) checkPath(f.name);
      for (const f of files) {
        const t = await storage.ask(
          { type: "upload.prepare", ...ref(row), path: f.name, size: f.size },
          StorageReply.transfer,
        );
        if (f.size === 0) continue;
        // One tus PATCH with the whole file: the bytes go to the storage
        // node's HTTP port, never through a cluster frame.
        const res = await fetch(
          `${t.url}?token=${encodeURIComponent(t.token)}`,
          {
            method: "PATCH",
            headers: {
              "Tus-Resumable": "1.0.0",
              "Upload-Offset": "0",
              "Content-Type": "application/offset+octet-stream",
            },
            body: f,
          },
        ).catch((e) => {
          throw new DomainError(
            "service-unavailable",
            `storage node unreachable: ${e}`,
          );
        });
        const text = await res.text();
        if (res.status !== 204) {
          throw new DomainError(
            res.status === 413 ? "quota-exceeded" : "invalid-api-params",
            `upload of ${f.name} failed (${res.status}): ${text.trim()}`,
          );
        }
      }
    },

    async adminList(filter: AdminFolderFilter) {
      const { rows, total } = await repo.listAll(filter);
      await refreshUsage(rows);
      return { folders: rows.map(adminFolderView), total };
    },
  };
}
