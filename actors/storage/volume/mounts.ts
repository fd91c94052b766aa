/**
 * What is mounted where, read from `/proc/self/mountinfo`, and unmounting
 * (for the volumes this project loop-mounts).
 *
 * @module
 */

import { exec } from "./exec.ts";

/** One line of mountinfo. */
export interface MountEntry {
  mountpoint: string;
  fstype: string;
  source: string;
}

/** `\040` and friends in mountinfo fields, decoded. */
function unescape(field: string): string {
  return field.replace(
    /\\([0-7]{3})/g,
    (_, oct: string) => String.fromCharCode(parseInt(oct, 8)),
  );
}

/** The mount table of this process's mount namespace. */
export async function readMounts(): Promise<MountEntry[]> {
  const text = await Deno.readTextFile("/proc/self/mountinfo");
  const out: MountEntry[] = [];
  for (const line of text.split("\n")) {
    if (!line) continue;
    const parts = line.split(" ");
    const dash = parts.indexOf("-");
    if (dash < 0 || parts.length < dash + 3) continue;
    out.push({
      mountpoint: unescape(parts[4]),
      fstype: parts[dash + 1],
      source: unescape(parts[dash + 2]),
    });
  }
  return out;
}

/** The mount at exactly `path` (the last one, if stacked), or undefined. */
export async function mountAt(path: string): Promise<MountEntry | undefined> {
  const all = await readMounts();
  return all.findLast((m) => m.mountpoint === path);
}

/**
 * Unmounts every mount at or below `dir`, deepest first (lazily, so a
 * kernel still holding a file does not block it). For tests and operators
 * tearing down a data dir; returns the mountpoints it unmounted.
 */
export async function unmountUnder(dir: string): Promise<string[]> {
  const base = dir.replace(/\/+$/, "");
  const targets = (await readMounts())
    .map((m) => m.mountpoint)
    .filter((p) => p === base || p.startsWith(base + "/"))
    .sort((a, b) => b.length - a.length);
  const done: string[] = [];
  for (const p of [...new Set(targets)]) {
    try {
      await exec("umount", ["-l", p]);
      done.push(p);
    } catch { /* already gone */ }
  }
  return done;
}
