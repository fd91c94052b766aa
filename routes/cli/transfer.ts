/**
 * `cli upload SESSION FILE...` (one multipart request into the session's
 * work dir) and `cli download SESSION PATH... [-o DIR]` (each file saved
 * under DIR, default `.`), with progress on stderr. Also the raw form's
 * `-o FILE` ({@link saveBody}).
 *
 * @module
 */

import { basename, join } from "node:path";
import type { ApiClient } from "./client.ts";
import { CliError } from "./errors.ts";
import { type FilePart, multipartBody } from "./multipart.ts";
import { Progress } from "./progress.ts";

/**
 * The name a local file is stored under in the work dir: a relative path
 * as given (`data/a.csv`), else (absolute, or climbing with `..`) its base
 * name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { remoteName } from "./transfer.ts";
 * assert.ok(remoteName("./data/a.csv") === "data/a.csv");
 * assert.ok(remoteName("/tmp/b.txt") === "b.txt");
 * assert.ok(remoteName("../c.txt") === "c.txt");
 * ```
 */
export function remoteName(local: string): string {
  const parts = local.split("/").filter((p) => p !== "" && p !== ".");
  if (local.startsWith("/") || parts.includes("..")) return basename(local);
  return parts.join("/");
}

/** `upload`: sends every file in one request. */
export async function uploadFiles(
  api: ApiClient,
  ref: string,
  files: string[],
): Promise<void> {
  if (files.length === 0) throw new CliError("upload needs SESSION FILE...", 2);
  const stats = await Promise.all(files.map(async (f) => {
    try {
      const st = await Deno.stat(f);
      if (!st.isFile) throw new CliError(`not a file: ${f}`, 2);
      return st.size;
    } catch (e) {
      if (e instanceof CliError) throw e;
      throw new CliError(
        e instanceof Deno.errors.NotFound
          ? `no such file: ${f}`
          : `cannot read ${f}: ${(e as Error).message}`,
        2,
      );
    }
  }));
  const total = stats.reduce((a, b) => a + b, 0);
  const progress = new Progress(`upload ${files.join(" ")}`, total);
  const parts: FilePart[] = files.map((f, i) => ({
    filename: remoteName(f),
    size: stats[i],
    open: async () => progress.counting((await Deno.open(f)).readable),
  }));
  const body = multipartBody(parts);
  const res = await api.ok(
    "POST",
    `/session/${encodeURIComponent(ref)}/upload`,
    body.stream,
    { headers: { "Content-Type": body.contentType } },
  );
  await res.body?.cancel();
  progress.finish();
}

/** `download`: saves each path's bytes as DIR/its base name. */
export async function downloadFiles(
  api: ApiClient,
  ref: string,
  paths: string[],
  dir: string,
): Promise<void> {
  if (paths.length === 0) {
    throw new CliError("download needs SESSION PATH...", 2);
  }
  for (const path of paths) {
    const res = await api.ok(
      "GET",
      `/session/${encodeURIComponent(ref)}/download_single?file=${
        encodeURIComponent(path)
      }`,
    );
    await saveBody(res, join(dir, basename(path)), `download ${path}`);
  }
}

/**
 * Writes a response body to `dest` with progress (total from
 * Content-Length when sent); a failed transfer leaves no partial file.
 */
export async function saveBody(
  res: Response,
  dest: string,
  label: string,
): Promise<void> {
  const length = Number(res.headers.get("content-length") ?? NaN);
  const progress = new Progress(
    label,
    Number.isFinite(length) ? length : undefined,
  );
  let file: Deno.FsFile;
  try {
    file = await Deno.open(dest, { write: true, create: true, truncate: true });
  } catch (e) {
    await res.body?.cancel();
    throw new CliError(`cannot write ${dest}: ${(e as Error).message}`);
  }
  try {
    if (res.body) await progress.counting(res.body).pipeTo(file.writable);
    else file.close();
  } catch (e) {
    await Deno.remove(dest).catch(() => undefined);
    throw new CliError(
      `${label} failed after ${progress.done} bytes: ${(e as Error).message}`,
    );
  }
  progress.finish(` → ${dest}`);
}
