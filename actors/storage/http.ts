/**
 * The storage node's own HTTP port, which clients reach directly with the
 * URL and token the manager's `request-upload` / `request-download` gave
 * them (as Backend.AI's storage proxy does; file bytes never cross the
 * cluster links):
 *
 * - `/upload?token=` tus 1.0 (OPTIONS, HEAD, PATCH, POST, DELETE)
 * - `GET|HEAD /download?token=` the file, with `Content-Length` and
 *   single `Range` requests (206)
 * - `GET /` `{ "storage": ID, "version" }`
 *
 * A bad, expired or other-op token is a 403 and touches nothing.
 *
 * @module
 */

import type { TokenSigner } from "./tokens.ts";
import type { TusUploads } from "./tus.ts";
import type { StorageHost } from "./hosts.ts";
import { fileForDownload } from "./files.ts";
import { PathRefused } from "./paths.ts";

/** What the HTTP port needs. */
export interface StorageHttpDeps {
  nodeId: string;
  version: string;
  signer: TokenSigner;
  tus: TusUploads;
  host(name: string): StorageHost | undefined;
  /** Unexpected failures. @default {console.error} */
  logError?: (msg: string, err: unknown) => void;
}

const CORS = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Allow-Methods": "GET, HEAD, POST, PATCH, DELETE, OPTIONS",
  "Access-Control-Allow-Headers":
    "Authorization, Content-Type, Location, Tus-Resumable, Upload-Length, Upload-Metadata, Upload-Offset, Upload-Defer-Length, Upload-Concat, X-HTTP-Method-Override, X-Requested-With, Range",
  "Access-Control-Expose-Headers":
    "Location, Upload-Offset, Upload-Length, Tus-Resumable, Tus-Version, Tus-Extension, Tus-Max-Size, Content-Length, Content-Range, Content-Disposition",
};

function text(status: number, body: string, extra: HeadersInit = {}) {
  return new Response(body + "\n", {
    status,
    headers: { "Content-Type": "text/plain; charset=utf-8", ...CORS, ...extra },
  });
}

const STATUS_OF: Record<PathRefused["type"], number> = {
  "invalid-api-params": 400,
  "generic-forbidden": 403,
  "object-not-found": 404,
  "vfolder-not-found": 404,
  "quota-exceeded": 413,
  "service-unavailable": 503,
  "vfolder-already-exists": 400,
};

/** The request handler of the storage port. */
export function storageHandler(
  deps: StorageHttpDeps,
): (req: Request) => Promise<Response> {
  const logError = deps.logError ??
    ((msg: string, err: unknown) => console.error(`storage: ${msg}`, err));
  return async (req) => {
    try {
      const url = new URL(req.url);
      if (url.pathname === "/") {
        return Response.json({ storage: deps.nodeId, version: deps.version }, {
          headers: CORS,
        });
      }
      if (url.pathname === "/upload" || url.pathname.startsWith("/upload/")) {
        if (req.method === "OPTIONS") {
          return new Response(null, {
            status: 204,
            headers: {
              ...CORS,
              "Tus-Resumable": "1.0.0",
              "Tus-Version": "1.0.0",
              "Tus-Extension": "creation,termination",
              "Access-Control-Max-Age": "86400",
            },
          });
        }
        const claims = await deps.signer.verify(
          url.searchParams.get("token"),
          "upload",
        );
        if (!claims || claims.node !== deps.nodeId) {
          await req.body?.cancel();
          return text(403, "invalid or expired upload token", {
            "Tus-Resumable": "1.0.0",
          });
        }
        return await deps.tus.handle(req, claims);
      }
      if (url.pathname === "/download") {
        if (req.method === "OPTIONS") {
          return new Response(null, { status: 204, headers: CORS });
        }
        if (req.method !== "GET" && req.method !== "HEAD") {
          return text(405, "method not allowed", { Allow: "GET, HEAD" });
        }
        return await download(deps, req, url);
      }
      return text(404, "not found");
    } catch (e) {
      if (e instanceof PathRefused) return text(STATUS_OF[e.type], e.message);
      logError("unexpected failure", e);
      return text(500, "internal error");
    }
  };
}

async function download(
  deps: StorageHttpDeps,
  req: Request,
  url: URL,
): Promise<Response> {
  const claims = await deps.signer.verify(
    url.searchParams.get("token"),
    "download",
  );
  const host = claims && claims.node === deps.nodeId
    ? deps.host(claims.host)
    : undefined;
  if (!claims || !host) return text(403, "invalid or expired download token");
  // Resolved again at open time: the folder may have changed since the token.
  const { path, size } = await fileForDownload(
    host.dataDir(claims.folderId),
    claims.path,
  );
  const name = claims.path.split("/").filter(Boolean).pop() ?? "download";
  const headers: Record<string, string> = {
    ...CORS,
    "Content-Type": "application/octet-stream",
    "Content-Disposition": `attachment; filename*=UTF-8''${
      encodeURIComponent(name)
    }`,
    "Accept-Ranges": "bytes",
  };
  let start = 0;
  let end = size - 1;
  let status = 200;
  const range = req.headers.get("range");
  if (range) {
    const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
    const a = m?.[1] ? Number(m[1]) : undefined;
    const b = m?.[2] ? Number(m[2]) : undefined;
    if (!m || (a === undefined && b === undefined)) {
      return text(416, "bad range", { "Content-Range": `bytes */${size}` });
    }
    if (a === undefined) start = Math.max(0, size - b!);
    else {
      start = a;
      if (b !== undefined) end = Math.min(b, size - 1);
    }
    if (start > end || start >= size) {
      return text(416, "range not satisfiable", {
        "Content-Range": `bytes */${size}`,
      });
    }
    status = 206;
    headers["Content-Range"] = `bytes ${start}-${end}/${size}`;
  }
  const length = size === 0 ? 0 : end - start + 1;
  headers["Content-Length"] = String(length);
  if (req.method === "HEAD" || length === 0) {
    return new Response(null, { status, headers });
  }
  const file = await Deno.open(path, { read: true });
  if (start > 0) await file.seek(start, Deno.SeekMode.Start);
  let left = length;
  const body = new ReadableStream<Uint8Array>({
    async pull(ctl) {
      const buf = new Uint8Array(Math.min(1 << 20, left));
      const n = await file.read(buf);
      if (n === null || n === 0) {
        file.close();
        ctl.close();
        return;
      }
      left -= n;
      ctl.enqueue(n === buf.length ? buf : buf.subarray(0, n));
      if (left <= 0) {
        file.close();
        ctl.close();
      }
    },
    cancel() {
      try {
        file.close();
      } catch { /* closed */ }
    },
  });
  return new Response(body, { status, headers });
}
