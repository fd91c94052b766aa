/**
 * tus 1.0 uploads (core, creation, termination) with `@tus/server` and
 * `@tus/file-store` (maintained by the tus project, run here through
 * `handleWeb(Request)`: web-standard, no Node server needed), behind our
 * token check.
 *
 * Backend.AI's model, which the real clients expect: `request-upload`
 * creates the upload with its length (the Python SDK's aiotusclient never
 * POSTs; it PATCHes `url?token=` from offset 0, and tus-js-client HEADs
 * the URL first to resume). So {@link TusUploads.prepare} pre-creates the
 * upload in the folder's own `uploads/` dir, inside its quota dir: a
 * half-done upload counts against the quota, and the kernel's filesystem
 * refuses bytes past it. A POST (creation) on the token URL is answered
 * with the upload the token names. On the last PATCH the file moves into
 * `data/` at the token's path (same subvolume: a rename).
 *
 * @module
 */

import { Server } from "@tus/server";
import { FileStore } from "@tus/file-store";
import { MemoryLocker, Upload } from "@tus/server";
import type { TokenClaims } from "./tokens.ts";
import { giveToKernels, isQuotaError, makeDirs, mapFsError } from "./files.ts";
import { PathRefused, resolveInside } from "./paths.ts";
import type { StorageHost } from "./hosts.ts";

/** Uploads left unfinished this long are removed (their bytes freed). */
export const UPLOAD_EXPIRY_MS = 24 * 3600_000;

/** Bytes a folder's unfinished uploads still expect (reserved against its quota). */
export async function reservedBytes(uploadsDir: string): Promise<number> {
  let reserved = 0;
  try {
    for await (const e of Deno.readDir(uploadsDir)) {
      if (!e.name.endsWith(".json")) continue;
      const id = e.name.slice(0, -5);
      try {
        const meta = JSON.parse(
          await Deno.readTextFile(`${uploadsDir}/${e.name}`),
        );
        const have = (await Deno.stat(`${uploadsDir}/${id}`)).size;
        reserved += Math.max(0, Number(meta.size ?? 0) - have);
      } catch { /* half-written or gone */ }
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return reserved;
}

/** Where a finished upload goes and who to tell. */
export interface TusOptions {
  /** The host of a token, if this node owns it. */
  host(name: string): StorageHost | undefined;
  /** Free bytes of a folder right now (quota − used − reserved), for a POST's Upload-Length. */
  freeBytes(host: StorageHost, folderId: string): Promise<number>;
}

/** The tus servers of this node's folders. */
export class TusUploads {
  #servers = new Map<string, Server>();
  #locker = new MemoryLocker();
  #claims = new WeakMap<Request, TokenClaims>();

  constructor(readonly options: TusOptions) {}

  #server(host: StorageHost, folderId: string): Server {
    const key = `${host.name}/${folderId}`;
    let s = this.#servers.get(key);
    if (s) return s;
    s = new Server({
      path: "/upload",
      datastore: new FileStore({
        directory: host.uploadsDir(folderId),
        expirationPeriodInMilliseconds: UPLOAD_EXPIRY_MS,
      }),
      locker: this.#locker,
      // Uploads are known by their token, never by a path the client picks.
      getFileIdFromRequest: (req) => this.#claims.get(req as Request)?.upload,
      namingFunction: (req) => this.#claims.get(req as Request)!.upload!,
      disableTerminationForFinishedUploads: true,
      onUploadFinish: async (req, upload) => {
        const claims = this.#claims.get(req as Request)!;
        await this.#land(host, claims, upload.id);
        return {};
      },
      onResponseError: (_req, err) => {
        if (err instanceof PathRefused) {
          const status = err.type === "quota-exceeded"
            ? 413
            : err.type === "object-not-found"
            ? 404
            : err.type === "generic-forbidden"
            ? 403
            : 400;
          return { status_code: status, body: `${err.message}\n` };
        }
        if (isQuotaError(err)) {
          return { status_code: 413, body: "the folder's quota is full\n" };
        }
        return undefined;
      },
    });
    if (this.#servers.size > 256) {
      this.#servers.delete(this.#servers.keys().next().value!);
    }
    this.#servers.set(key, s);
    return s;
  }

  /**
   * Creates the upload `id` of `size` bytes for `path` (already checked by
   * the caller). A zero-byte file lands at once (aiotusclient sends nothing
   * for it).
   */
  async prepare(
    host: StorageHost,
    folderId: string,
    id: string,
    size: number,
    path: string,
  ): Promise<void> {
    if (size === 0) {
      const target = await resolveInside(
        host.dataDir(folderId),
        path,
        "create",
      );
      await makeDirs(
        host.dataDir(folderId),
        path.split("/").filter(Boolean).slice(0, -1).join("/"),
      );
      await Deno.writeFile(target, new Uint8Array(0));
      await giveToKernels(target);
      return;
    }
    const store = this.#server(host, folderId).datastore as FileStore;
    await store.create(
      new Upload({
        id,
        size,
        offset: 0,
        metadata: { path },
        creation_date: new Date().toISOString(),
      }),
    );
  }

  /** Moves a finished upload into the folder's data at the token's path. */
  async #land(
    host: StorageHost,
    claims: TokenClaims,
    id: string,
  ): Promise<void> {
    const data = host.dataDir(claims.folderId);
    const staged = `${host.uploadsDir(claims.folderId)}/${id}`;
    try {
      // Checked again: the folder may have changed since request-upload.
      const target = await resolveInside(data, claims.path, "create");
      const parent = claims.path.split("/").filter(Boolean).slice(0, -1);
      await makeDirs(data, parent.join("/"));
      await Deno.rename(staged, target);
      await giveToKernels(target);
    } catch (e) {
      await Deno.remove(staged).catch(() => undefined);
      throw mapFsError(e, claims.path);
    } finally {
      await Deno.remove(`${staged}.json`).catch(() => undefined);
    }
  }

  /** Serves one tus request whose token has been checked. */
  async handle(req: Request, claims: TokenClaims): Promise<Response> {
    const host = this.options.host(claims.host);
    if (!host || !claims.upload) {
      return new Response("no such upload\n", { status: 404 });
    }
    if (req.method === "POST") return await this.#create(req, host, claims);
    this.#claims.set(req, claims);
    return await this.#server(host, claims.folderId).handleWeb(req);
  }

  /**
   * Creation on the token URL: the upload already exists (made by
   * request-upload), so this answers with it, after checking the length
   * the client declares against the token and the folder's free space.
   */
  async #create(
    req: Request,
    host: StorageHost,
    claims: TokenClaims,
  ): Promise<Response> {
    const headers = {
      "Tus-Resumable": "1.0.0",
      "Access-Control-Allow-Origin": "*",
      "Access-Control-Expose-Headers": "Location, Upload-Offset, Tus-Resumable",
    };
    if (!req.headers.get("tus-resumable")) {
      return new Response("Tus-Resumable Required\n", { status: 412, headers });
    }
    await req.body?.cancel();
    const length = Number(req.headers.get("upload-length"));
    if (!Number.isSafeInteger(length) || length !== claims.size) {
      return new Response(
        `Upload-Length must be ${claims.size}, as requested\n`,
        { status: 400, headers },
      );
    }
    const store = this.#server(host, claims.folderId).datastore as FileStore;
    const upload = await store.getUpload(claims.upload!).catch(() => null);
    if (!upload) return new Response("upload gone\n", { status: 404, headers });
    if (upload.offset === 0) {
      // Free space already excludes this upload's own reservation; below
      // zero means kernels filled the folder since request-upload.
      const free = await this.options.freeBytes(host, claims.folderId);
      if (free < 0) {
        return new Response("the folder's quota is full\n", {
          status: 413,
          headers,
        });
      }
    }
    return new Response(null, {
      status: 201,
      headers: { ...headers, Location: req.url },
    });
  }

  /** Removes uploads older than {@link UPLOAD_EXPIRY_MS} from one folder. */
  async sweep(host: StorageHost, folderId: string): Promise<number> {
    const dir = host.uploadsDir(folderId);
    let removed = 0;
    try {
      for await (const e of Deno.readDir(dir)) {
        if (!e.name.endsWith(".json")) continue;
        const meta = await Deno.readTextFile(`${dir}/${e.name}`)
          .then(JSON.parse).catch(() => null);
        const at = Date.parse(meta?.creation_date ?? "");
        if (Number.isFinite(at) && Date.now() - at < UPLOAD_EXPIRY_MS) continue;
        await Deno.remove(`${dir}/${e.name.slice(0, -5)}`).catch(() => {});
        await Deno.remove(`${dir}/${e.name}`).catch(() => {});
        removed++;
      }
    } catch { /* folder gone */ }
    return removed;
  }
}
