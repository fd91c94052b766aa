/**
 * Confinement of client paths to a folder's data dir, against the real
 * filesystem: the syntax rules (policies/vfolder.ts: relative, no `..`,
 * no NUL) first, then symlinks. Kernels write into folders, so a folder
 * may hold a symlink to `/etc` or to another folder; every path is resolved
 * with `realpath` and must stay under the folder's own real root, and
 * nothing is ever written through a symlink.
 *
 * Limit: the check and the use are two steps (Deno has no `openat` /
 * `O_NOFOLLOW` walk), so a kernel racing to swap a checked directory for a
 * symlink in between could redirect one operation. Files are opened right
 * after the check and downloads re-check at open time to keep that window
 * small.
 *
 * @module
 */

import { folderPathSegments } from "../../policies/vfolder.ts";
import type { StorageError } from "../protocol/storage.ts";

/** A path refused, with the problem the API answers. */
export class PathRefused extends Error {
  override name = "PathRefused";
  constructor(readonly type: StorageError["type"], message: string) {
    super(message);
  }
}

/** How {@link resolveInside} treats the last segment. */
export type ResolveMode =
  /** It must exist; symlinks are followed and must land inside. */
  | "existing"
  /** The entry itself (a symlink is the link, not its target); it must exist. */
  | "entry"
  /** It may be missing (its missing parents will be made as real dirs); never a symlink. */
  | "create";

function inside(root: string, p: string): boolean {
  return p === root || p.startsWith(root + "/");
}

async function lstatOrNull(p: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.lstat(p);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    if (e instanceof Deno.errors.NotADirectory) return null;
    throw e;
  }
}

/** The segments of `rel`, or {@link PathRefused} invalid-api-params. */
export function segmentsOf(rel: string): string[] {
  const segs = folderPathSegments(rel);
  if (!Array.isArray(segs)) {
    throw new PathRefused("invalid-api-params", segs.problem);
  }
  return segs;
}

/**
 * The absolute, symlink-free path of `rel` inside `root` (itself resolved
 * first). Throws {@link PathRefused}: invalid-api-params for bad syntax,
 * generic-forbidden for an escape through a symlink, object-not-found for
 * a missing entry in "existing"/"entry" mode.
 */
export async function resolveInside(
  root: string,
  rel: string,
  mode: ResolveMode,
): Promise<string> {
  const segs = segmentsOf(rel);
  const realRoot = await Deno.realPath(root);
  if (segs.length === 0) {
    if (mode === "existing") return realRoot;
    throw new PathRefused(
      "invalid-api-params",
      "the folder's root itself cannot be the target",
    );
  }
  if (mode === "existing") {
    const p = `${realRoot}/${segs.join("/")}`;
    let real: string;
    try {
      real = await Deno.realPath(p);
    } catch (e) {
      if (
        e instanceof Deno.errors.NotFound ||
        e instanceof Deno.errors.NotADirectory
      ) {
        throw new PathRefused("object-not-found", `no such file: ${rel}`);
      }
      throw e;
    }
    if (!inside(realRoot, real)) {
      throw new PathRefused(
        "generic-forbidden",
        `${rel} leads outside the folder`,
      );
    }
    return real;
  }
  // Parent: the deepest existing ancestor, resolved, must be inside; the
  // rest will be made as plain dirs (mkdir never follows a symlink it makes).
  const parentSegs = segs.slice(0, -1);
  let i = parentSegs.length;
  let base = realRoot;
  for (; i > 0; i--) {
    const candidate = `${realRoot}/${parentSegs.slice(0, i).join("/")}`;
    const st = await lstatOrNull(candidate);
    if (st) {
      base = await Deno.realPath(candidate);
      break;
    }
  }
  if (!inside(realRoot, base)) {
    throw new PathRefused(
      "generic-forbidden",
      `${rel} leads outside the folder`,
    );
  }
  const rest = parentSegs.slice(i);
  const parent = rest.length ? `${base}/${rest.join("/")}` : base;
  if (rest.length && mode === "entry") {
    throw new PathRefused("object-not-found", `no such file: ${rel}`);
  }
  const target = `${parent}/${segs[segs.length - 1]}`;
  const st = rest.length ? null : await lstatOrNull(target);
  if (mode === "entry" && !st) {
    throw new PathRefused("object-not-found", `no such file: ${rel}`);
  }
  if (mode === "create" && st?.isSymlink) {
    throw new PathRefused(
      "generic-forbidden",
      `${rel} is a symlink; nothing is written through one`,
    );
  }
  return target;
}
