/**
 * StorageActor (`/user/storage` on a storage node): owns this node's
 * storage hosts. It joins the manager's storage registry (then a heartbeat
 * with every host's size), makes and removes folders with their quotas,
 * does file operations inside them, and prepares uploads and downloads
 * (the tokens and URLs of this node's HTTP port).
 *
 * Every reply is a value: a refusal is `{ error: { type, msg } }` with an
 * API problem name (a path outside the folder, a full quota, an unknown
 * host), so the manager maps it without reading messages.
 *
 * @module
 */

import { Actor, type ActorRef } from "../runtime/types.ts";
import {
  type StorageError,
  StorageMsg,
  type StorageNodeInfo,
  type StorageRegistryMsg,
} from "../protocol/storage.ts";
import type { StorageHost } from "./hosts.ts";
import type { TokenSigner } from "./tokens.ts";
import { reservedBytes, type TusUploads } from "./tus.ts";
import {
  deleteEntries,
  fileForDownload,
  listDir,
  makeDir,
  mapFsError,
  moveEntry,
  renameEntry,
} from "./files.ts";
import { PathRefused, resolveInside } from "./paths.ts";
import { VolumeError } from "./volume/mod.ts";

/** Lifetimes of the tokens this node hands out. */
export const TOKEN_TTL = { uploadMs: 3600_000, downloadMs: 600_000 } as const;

export interface StorageActorOptions {
  id: string;
  /** Base URL of this node's HTTP port, as clients reach it. */
  url: string;
  version: string;
  hosts: Map<string, StorageHost>;
  registry: ActorRef<StorageRegistryMsg>;
  signer: TokenSigner;
  tus: TusUploads;
  heartbeatMs: number;
}

/** Messages only this node sends its storage actor. */
export type StorageInternalMsg = { type: "heartbeat" } | { type: "rejoin" };

type Reply = Record<string, unknown> | { error: StorageError };

const refuse = (type: StorageError["type"], msg: string) => ({
  error: { type, msg },
});

export class StorageActor extends Actor<StorageMsg | StorageInternalMsg> {
  #joined = false;
  #timer?: ReturnType<typeof setInterval>;
  /** When unfinished uploads were last swept (hourly). */
  #sweptAt = Date.now();

  constructor(readonly opts: StorageActorOptions) {
    super();
  }

  override async preStart(): Promise<void> {
    const self = this.ctx.self;
    this.#timer = setInterval(
      () => self.tell({ type: "heartbeat" }),
      this.opts.heartbeatMs,
    );
    await this.#join();
  }

  override postStop(): void {
    clearInterval(this.#timer);
  }

  async receive(raw: StorageMsg | StorageInternalMsg): Promise<unknown> {
    if (raw.type === "heartbeat") {
      if (!this.#joined) return await this.#join();
      this.opts.registry.tell({
        type: "storage.heartbeat",
        info: await this.info(),
      });
      if (Date.now() - this.#sweptAt > 3600_000) {
        this.#sweptAt = Date.now();
        await this.#sweep();
      }
      return;
    }
    if (raw.type === "rejoin") {
      this.#joined = false;
      return await this.#join();
    }
    const msg = StorageMsg.parse(raw);
    try {
      return await this.#handle(msg);
    } catch (e) {
      const mapped = mapFsError(e, "path" in msg ? String(msg.path) : "");
      if (mapped instanceof PathRefused) {
        return refuse(mapped.type, mapped.message);
      }
      if (e instanceof VolumeError) {
        return refuse("service-unavailable", e.message);
      }
      throw e;
    }
  }

  /** This node as the registry sees it. */
  async info(): Promise<StorageNodeInfo> {
    return {
      id: this.opts.id,
      url: this.opts.url,
      version: this.opts.version,
      hosts: await Promise.all(
        [...this.opts.hosts.values()].map((h) => h.info()),
      ),
    };
  }

  async #join(): Promise<void> {
    try {
      const res = await this.opts.registry.ask<
        { ok: boolean; reason?: string }
      >(
        { type: "storage.join", info: await this.info() },
        { timeoutMs: 5000 },
      );
      if (!res.ok) throw new Error(`refused: ${res.reason ?? "no reason"}`);
      this.#joined = true;
    } catch (err) {
      console.error(
        `storage ${this.opts.id}: join failed, retrying with the next heartbeat: ${err}`,
      );
    }
  }

  async #sweep(): Promise<void> {
    for (const h of this.opts.hosts.values()) {
      for await (const e of Deno.readDir(h.root)) {
        if (e.isDirectory) await this.opts.tus.sweep(h, e.name);
      }
    }
  }

  /** The host and the folder's data dir, or a refusal. */
  async #folder(
    hostName: string,
    folderId: string,
  ): Promise<{ host: StorageHost; root: string } | { error: StorageError }> {
    const host = this.opts.hosts.get(hostName);
    if (!host) {
      return refuse("invalid-api-params", `no storage host ${hostName} here`);
    }
    if (!await host.hasFolder(folderId)) {
      return refuse("vfolder-not-found", "the folder's data is missing");
    }
    return { host, root: host.dataDir(folderId) };
  }

  /** Bytes a new upload may still take in the folder. */
  async freeBytes(host: StorageHost, folderId: string): Promise<number> {
    const usage = await host.volume.usage(folderId, { sync: true })
      .catch(() => ({ usedBytes: 0, limitBytes: null }));
    const reserved = await reservedBytes(host.uploadsDir(folderId));
    const room = usage.limitBytes === null
      ? (await host.volume.capacity()).freeBytes
      : usage.limitBytes - usage.usedBytes;
    return room - reserved;
  }

  async #handle(msg: StorageMsg): Promise<Reply> {
    switch (msg.type) {
      case "folder.create": {
        const host = this.opts.hosts.get(msg.host);
        if (!host) {
          return refuse("invalid-api-params", `no storage host ${msg.host}`);
        }
        if (msg.quota !== null && !host.volume.enforcesQuota) {
          return refuse(
            "invalid-api-params",
            `storage host ${msg.host} cannot enforce a quota`,
          );
        }
        if (await host.hasFolder(msg.folderId)) {
          // A retried create: make the limit what was asked.
          await host.volume.setLimit(msg.folderId, msg.quota);
          return { ok: true, path: host.dataDir(msg.folderId) };
        }
        return {
          ok: true,
          path: await host.createFolder(msg.folderId, msg.quota),
        };
      }
      case "folder.delete": {
        const host = this.opts.hosts.get(msg.host);
        if (!host) {
          return refuse("invalid-api-params", `no storage host ${msg.host}`);
        }
        await host.volume.remove(msg.folderId);
        return { ok: true };
      }
      case "folder.set-quota": {
        const f = await this.#folder(msg.host, msg.folderId);
        if ("error" in f) return f;
        await f.host.volume.setLimit(msg.folderId, msg.quota);
        return { ok: true };
      }
      case "folder.usage": {
        const host = this.opts.hosts.get(msg.host);
        if (!host) {
          return refuse("invalid-api-params", `no storage host ${msg.host}`);
        }
        const all = await host.volume.usageAll({ sync: true });
        const want = msg.folderIds ? new Set(msg.folderIds) : undefined;
        const usage = [...all]
          .filter(([id]) => !want || want.has(id))
          .map(([folderId, u]) => ({ folderId, ...u }));
        return { usage };
      }
      case "files.list": {
        const f = await this.#folder(msg.host, msg.folderId);
        if ("error" in f) return f;
        return await listDir(f.root, msg.path);
      }
      case "files.mkdir": {
        const f = await this.#folder(msg.host, msg.folderId);
        if ("error" in f) return f;
        await makeDir(f.root, msg.path, msg);
        return { ok: true };
      }
      case "files.rename": {
        const f = await this.#folder(msg.host, msg.folderId);
        if ("error" in f) return f;
        await renameEntry(f.root, msg.path, msg.newName);
        return { ok: true };
      }
      case "files.move": {
        const f = await this.#folder(msg.host, msg.folderId);
        if ("error" in f) return f;
        await moveEntry(f.root, msg.src, msg.dst);
        return { ok: true };
      }
      case "files.delete": {
        const f = await this.#folder(msg.host, msg.folderId);
        if ("error" in f) return f;
        await deleteEntries(f.root, msg.paths, msg.recursive);
        return { ok: true };
      }
      case "upload.prepare": {
        const f = await this.#folder(msg.host, msg.folderId);
        if ("error" in f) return f;
        await resolveInside(f.root, msg.path, "create");
        const free = await this.freeBytes(f.host, msg.folderId);
        if (msg.size > free) {
          return refuse(
            "quota-exceeded",
            `the upload (${msg.size} bytes) is larger than the folder's free quota (${
              Math.max(0, free)
            } bytes)`,
          );
        }
        const upload = crypto.randomUUID().replaceAll("-", "");
        await this.opts.tus.prepare(
          f.host,
          msg.folderId,
          upload,
          msg.size,
          msg.path,
        );
        const token = await this.opts.signer.sign({
          v: 1,
          op: "upload",
          node: this.opts.id,
          host: msg.host,
          folderId: msg.folderId,
          path: msg.path,
          upload,
          size: msg.size,
          exp: Date.now() + TOKEN_TTL.uploadMs,
        });
        return { token, url: `${this.opts.url}/upload` };
      }
      case "download.prepare": {
        const f = await this.#folder(msg.host, msg.folderId);
        if ("error" in f) return f;
        await fileForDownload(f.root, msg.path);
        const token = await this.opts.signer.sign({
          v: 1,
          op: "download",
          node: this.opts.id,
          host: msg.host,
          folderId: msg.folderId,
          path: msg.path,
          exp: Date.now() + TOKEN_TTL.downloadMs,
        });
        return { token, url: `${this.opts.url}/download` };
      }
    }
  }
}
