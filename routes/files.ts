/**
 * Session file routes (API.md "Files"): multipart upload into the work dir,
 * download, and listing. Paths are passed to the manager as given; it
 * confines them to the work dir.
 *
 * @module
 */
import type { Hono } from "hono";
import { requireAuth } from "./auth.ts";
import { uploadedFiles } from "./body.ts";
import { callerOf } from "./caller.ts";
import type { GatewayEnv } from "./context.ts";
import type { GatewayDeps } from "../actors/manager/port/mod.ts";
import {
  ownerAccessKeyOf,
  queryParams,
  rawParams,
  stringListOf,
} from "./params.ts";
import { InvalidApiParams } from "./problems.ts";
import { SESSION_PREFIXES } from "./session.ts";
import { multipartMixed } from "./multipart.ts";
import { tarOneFile } from "./tar.ts";

/** Files per download, as Backend.AI's manager allows. */
export const MAX_DOWNLOAD_FILES = 5;

/** Mounts upload / download / files under both prefixes. */
export function mountFiles(app: Hono<GatewayEnv>, deps: GatewayDeps): void {
  for (const prefix of SESSION_PREFIXES) {
    app.post(`${prefix}/:ref/upload`, requireAuth(), async (c) => {
      const files = await uploadedFiles(c);
      const caller = callerOf(c, ownerAccessKeyOf(queryParams(c)));
      await deps.sessions.upload(caller, c.req.param("ref"), files);
      return c.body(null, 204);
    });

    // Backend.AI's wire form: multipart/mixed, one tar part per file (the
    // Python SDK unpacks each part with tarfile). Both client generations
    // send the same version header, so there is no second form here; the
    // raw bytes of one file are `download_single`'s answer.
    app.get(`${prefix}/:ref/download`, requireAuth(), async (c) => {
      const params = { ...queryParams(c), ...rawParams(c) };
      const paths = stringListOf(params, "files");
      if (paths.length === 0) {
        throw new InvalidApiParams("files is required", [{
          path: "files",
          message: "required",
        }]);
      }
      if (paths.length > MAX_DOWNLOAD_FILES) {
        throw new InvalidApiParams(
          `At most ${MAX_DOWNLOAD_FILES} files per download`,
        );
      }
      const caller = callerOf(c, ownerAccessKeyOf(params));
      const ref = c.req.param("ref");
      const parts: Uint8Array[] = [];
      for (const path of paths) {
        const { body } = await deps.sessions.download(caller, ref, [path]);
        parts.push(tarOneFile(baseName(path), await bytesOf(body)));
      }
      const { contentType, body } = multipartMixed(parts);
      return c.body(body, 200, { "Content-Type": contentType });
    });

    app.get(`${prefix}/:ref/download_single`, requireAuth(), async (c) => {
      const params = { ...queryParams(c), ...rawParams(c) };
      const file = params.file;
      if (typeof file !== "string" || file === "") {
        throw new InvalidApiParams("file is required", [{
          path: "file",
          message: "required",
        }]);
      }
      const caller = callerOf(c, ownerAccessKeyOf(params));
      const { contentType, body } = await deps.sessions.download(
        caller,
        c.req.param("ref"),
        [file],
      );
      return c.body(body, 200, { "Content-Type": contentType });
    });

    app.get(`${prefix}/:ref/logs`, requireAuth(), async (c) => {
      const params = { ...queryParams(c), ...rawParams(c) };
      const caller = callerOf(c, ownerAccessKeyOf(params));
      const logs = await deps.sessions.logs(caller, c.req.param("ref"));
      return c.json({ result: { logs } });
    });

    app.get(`${prefix}/:ref/files`, requireAuth(), async (c) => {
      const params = { ...queryParams(c), ...rawParams(c) };
      const path = params.path ?? ".";
      if (typeof path !== "string") {
        throw new InvalidApiParams("path must be a string");
      }
      const caller = callerOf(c, ownerAccessKeyOf(params));
      const listing = await deps.sessions.listFiles(
        caller,
        c.req.param("ref"),
        path,
      );
      return c.json(withClientEntries(listing));
    });
  }
}

/** The last path segment (what the tar entry is named, as Docker's archive does). */
function baseName(path: string): string {
  const parts = path.split("/").filter((p) => p !== "" && p !== ".");
  return parts.at(-1) ?? "file";
}

async function bytesOf(
  body: Uint8Array | ReadableStream<Uint8Array>,
): Promise<Uint8Array> {
  return body instanceof Uint8Array
    ? body
    : new Uint8Array(await new Response(body).arrayBuffer());
}

type Entry = Record<string, unknown>;

const KIND_MODE: Record<string, string> = {
  dir: "drwxr-xr-x",
  link: "lrwxrwxrwx",
  file: "-rw-r--r--",
};

/**
 * The listing with entries as the Python CLI's `ls` reads them: `filename,
 * mode, size, ctime, mtime, atime` (Backend.AI's kernel runner fields), in
 * the JSON text of `files`. Fields the runner did not report are derived:
 * `filename` from `name`, `mode` from `type`, `ctime`/`atime` from `mtime`.
 */
export function withClientEntries(
  listing: Record<string, unknown>,
): Record<string, unknown> {
  if (typeof listing.files !== "string") return listing;
  let entries: unknown;
  try {
    entries = JSON.parse(listing.files);
  } catch {
    return listing;
  }
  if (!Array.isArray(entries)) return listing;
  const files = entries.map((raw: Entry) => {
    const mtime = typeof raw.mtime === "number" ? raw.mtime : 0;
    return {
      ...raw,
      filename: raw.filename ?? raw.name,
      mode: raw.mode ?? KIND_MODE[String(raw.type)] ?? KIND_MODE.file,
      size: raw.size ?? 0,
      ctime: raw.ctime ?? mtime,
      mtime,
      atime: raw.atime ?? mtime,
    };
  });
  return { ...listing, files: JSON.stringify(files) };
}
