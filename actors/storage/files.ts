/**
 * File operations inside one folder's data dir, every path confined by
 * paths.ts. What the storage node makes is owned by the kernels' uid
 * (1000), so a session can change what was uploaded.
 *
 * @module
 */

import type { FileEntry } from "../protocol/storage.ts";
import { PathRefused, resolveInside, segmentsOf } from "./paths.ts";
import { fileNameProblem } from "../../policies/vfolder.ts";

/** The uid/gid kernels run as (actors/agent/kernel/spec.ts `User`). */
export const KERNEL_UID = 1000;

/** Most entries one listing returns. */
export const MAX_LIST_ENTRIES = 10_000;

/** Hands `path` to the kernels' user (a no-op when not root). */
export async function giveToKernels(path: string): Promise<void> {
  try {
    await Deno.chown(path, KERNEL_UID, KERNEL_UID);
  } catch (e) {
    if (!(e instanceof Deno.errors.PermissionDenied)) throw e;
  }
}

const seconds = (d: Date | null | undefined) =>
  d ? Math.floor(d.getTime() / 1000) : 0;

/** Lists the directory `rel`; symlinks are shown, never followed. */
export async function listDir(
  root: string,
  rel: string,
): Promise<{ entries: FileEntry[]; truncated: boolean }> {
  const dir = await resolveInside(root, rel, "existing");
  const st = await Deno.stat(dir);
  if (!st.isDirectory) {
    throw new PathRefused("invalid-api-params", `${rel} is not a directory`);
  }
  const entries: FileEntry[] = [];
  let truncated = false;
  for await (const e of Deno.readDir(dir)) {
    if (entries.length >= MAX_LIST_ENTRIES) {
      truncated = true;
      break;
    }
    let info: Deno.FileInfo;
    try {
      info = await Deno.lstat(`${dir}/${e.name}`);
    } catch {
      continue; // removed meanwhile
    }
    entries.push({
      name: e.name,
      type: info.isSymlink
        ? "SYMLINK"
        : info.isDirectory
        ? "DIRECTORY"
        : "FILE",
      size: info.size,
      mode: info.mode ?? 0,
      mtime: seconds(info.mtime),
      atime: seconds(info.atime),
      ctime: seconds(info.ctime ?? info.mtime),
    });
  }
  entries.sort((a, b) => a.name.localeCompare(b.name));
  return { entries, truncated };
}

/** Makes the directory `rel` (and its parents with `parents`). */
export async function makeDir(
  root: string,
  rel: string,
  opts: { parents: boolean; existOk: boolean },
): Promise<void> {
  const target = await resolveInside(root, rel, "create");
  const st = await Deno.lstat(target).catch(() => null);
  if (st) {
    if (st.isDirectory && opts.existOk) return;
    throw new PathRefused("invalid-api-params", `${rel} already exists`);
  }
  const parent = target.slice(0, target.lastIndexOf("/"));
  if (!opts.parents && !(await Deno.lstat(parent).catch(() => null))) {
    throw new PathRefused(
      "invalid-api-params",
      `the parent of ${rel} does not exist (pass parents)`,
    );
  }
  await makeDirs(root, rel);
}

/** Makes every missing dir of `rel` inside `root`, each owned by the kernels' user. */
export async function makeDirs(root: string, rel: string): Promise<string> {
  const segs = segmentsOf(rel);
  let at = await Deno.realPath(root);
  for (const s of segs) {
    at = `${at}/${s}`;
    try {
      await Deno.mkdir(at, { mode: 0o755 });
      await giveToKernels(at);
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw mapFsError(e, rel);
      const st = await Deno.lstat(at);
      if (st.isSymlink) {
        // Resolve it, and it must stay inside (paths.ts checks the rest).
        at = await resolveInside(root, relOf(root, at), "existing");
      } else if (!st.isDirectory) {
        throw new PathRefused("invalid-api-params", `${s} is not a directory`);
      }
    }
  }
  return at;
}

function relOf(root: string, abs: string): string {
  return abs.slice(root.length + 1);
}

/** Renames `rel` in place to `newName` (one segment). */
export async function renameEntry(
  root: string,
  rel: string,
  newName: string,
): Promise<void> {
  const problem = fileNameProblem(newName);
  if (problem) throw new PathRefused("invalid-api-params", problem);
  const src = await resolveInside(root, rel, "entry");
  const dst = `${src.slice(0, src.lastIndexOf("/"))}/${newName}`;
  if (await Deno.lstat(dst).catch(() => null)) {
    throw new PathRefused("invalid-api-params", `${newName} already exists`);
  }
  await Deno.rename(src, dst).catch((e) => {
    throw mapFsError(e, rel);
  });
}

/** Moves `src` to `dst` (into it, when `dst` is a directory). */
export async function moveEntry(
  root: string,
  srcRel: string,
  dstRel: string,
): Promise<void> {
  const src = await resolveInside(root, srcRel, "entry");
  let dst = await resolveInside(root, dstRel, "create");
  const st = await Deno.lstat(dst).catch(() => null);
  if (st?.isDirectory) dst = `${dst}/${src.slice(src.lastIndexOf("/") + 1)}`;
  if (dst === src || dst.startsWith(src + "/")) {
    throw new PathRefused(
      "invalid-api-params",
      "cannot move a directory into itself",
    );
  }
  await makeDirs(
    root,
    relOf(await Deno.realPath(root), dst).split("/")
      .slice(0, -1).join("/"),
  );
  await Deno.rename(src, dst).catch((e) => {
    throw mapFsError(e, srcRel);
  });
}

/** Deletes entries (symlinks themselves, never their targets). */
export async function deleteEntries(
  root: string,
  rels: string[],
  recursive: boolean,
): Promise<void> {
  // Resolve all first: one bad path refuses the whole request, nothing deleted.
  const targets: { path: string; dir: boolean; rel: string }[] = [];
  for (const rel of rels) {
    const path = await resolveInside(root, rel, "entry");
    const st = await Deno.lstat(path);
    if (st.isDirectory && !recursive) {
      let empty = true;
      for await (const _ of Deno.readDir(path)) {
        empty = false;
        break;
      }
      if (!empty) {
        throw new PathRefused(
          "invalid-api-params",
          `${rel} is a directory that is not empty (pass recursive)`,
        );
      }
    }
    targets.push({ path, dir: st.isDirectory, rel });
  }
  for (const t of targets) {
    await Deno.remove(t.path, { recursive: t.dir }).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw mapFsError(e, t.rel);
    });
  }
}

/** A file's real path and size, for a download. */
export async function fileForDownload(
  root: string,
  rel: string,
): Promise<{ path: string; size: number }> {
  const path = await resolveInside(root, rel, "existing");
  const st = await Deno.stat(path);
  if (!st.isFile) {
    throw new PathRefused("invalid-api-params", `${rel} is not a file`);
  }
  return { path, size: st.size };
}

/** Filesystem errors of a user's request as 4xx refusals. */
export function mapFsError(e: unknown, rel: string): unknown {
  if (e instanceof PathRefused) return e;
  if (e instanceof Deno.errors.NotFound) {
    return new PathRefused("object-not-found", `no such file: ${rel}`);
  }
  if (
    e instanceof Deno.errors.NotADirectory ||
    e instanceof Deno.errors.IsADirectory ||
    e instanceof Deno.errors.AlreadyExists ||
    e instanceof Deno.errors.InvalidData
  ) {
    return new PathRefused("invalid-api-params", `${rel}: ${e.message}`);
  }
  if (isQuotaError(e)) {
    return new PathRefused("quota-exceeded", "the folder's quota is full");
  }
  return e;
}

/** errno of EDQUOT and ENOSPC on Linux. */
const QUOTA_ERRNOS = new Set([122, 28]);

/**
 * EDQUOT or ENOSPC. Deno reports these as a plain `Error` whose only
 * machine-readable part is the errno in "(os error N)", so that number is
 * read (node:fs gives no better: "UNKNOWN").
 */
export function isQuotaError(e: unknown): boolean {
  const code = (e as { code?: string })?.code;
  if (code === "EDQUOT" || code === "ENOSPC") return true;
  const m = /\(os error (\d+)\)/.exec(String((e as Error)?.message ?? ""));
  return m !== null && QUOTA_ERRNOS.has(Number(m[1]));
}
