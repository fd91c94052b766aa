/**
 * Pure rules of virtual folders: which names a folder may have (Backend.AI's
 * rules), which paths inside a folder a request may name, and where a
 * folder is mounted in a kernel. Checked by the manager before anything
 * reaches a storage node (which checks paths again against the real
 * filesystem: symlinks are its part).
 *
 * @module
 */

/** Most characters of a folder name (Backend.AI's API_VFOLDER_LENGTH_LIMIT). */
export const MAX_VFOLDER_NAME = 64;

/** Names Backend.AI reserves: they would shadow a kernel's own files. */
const RESERVED_NAMES = new Set([
  ".terminfo",
  ".jupyter",
  ".tmux.conf",
  ".ssh",
  "/bin",
  "/boot",
  "/dev",
  "/etc",
  "/lib",
  "/lib64",
  "/media",
  "/mnt",
  "/opt",
  "/proc",
  "/root",
  "/run",
  "/sbin",
  "/srv",
  "/sys",
  "/tmp",
  "/usr",
  "/var",
  "/home",
]);
const RESERVED_PATTERNS = [/^\.[a-z0-9]+rc$/, /^\.[a-z0-9]+_profile$/];

/**
 * Why `name` cannot name a folder, or undefined when it can: letters,
 * digits, `_`, `-` and `.` (Backend.AI's slug with dots), 1–64 characters,
 * not `.` or `..`, none of the reserved names (`.ssh`, `.bashrc`, ...).
 *
 * @example
 * ```ts
 * import { folderNameProblem } from "./vfolder.ts";
 * if (folderNameProblem("data-2024") !== undefined) throw new Error();
 * if (folderNameProblem("../etc") === undefined) throw new Error();
 * if (folderNameProblem(".bashrc") === undefined) throw new Error();
 * ```
 */
export function folderNameProblem(name: string): string | undefined {
  if (name.length === 0 || name.length > MAX_VFOLDER_NAME) {
    return `a folder name has 1 to ${MAX_VFOLDER_NAME} characters`;
  }
  if (!/^[\w.-]+$/.test(name)) {
    return "a folder name has only letters, digits, '_', '-' and '.'";
  }
  if (name === "." || name === "..") return "a folder name cannot be . or ..";
  if (RESERVED_NAMES.has(name) || RESERVED_PATTERNS.some((p) => p.test(name))) {
    return `"${name}" is a reserved name`;
  }
  return undefined;
}

/** A path inside a folder, refused. */
export interface PathProblem {
  problem: string;
}

/**
 * The segments of a path inside a folder, or why it is refused. `""`, `"."`
 * and `"/"`-free relative paths are fine; empty and `.` segments are
 * dropped (`a//b/./c` is `a/b/c`). Refused: absolute paths, any `..`
 * segment, NUL, segments over 255 bytes, over 4096 characters in all.
 *
 * @example
 * ```ts
 * import { folderPathSegments } from "./vfolder.ts";
 * const ok = folderPathSegments("data/./x.csv");
 * if (!Array.isArray(ok) || ok.join("/") !== "data/x.csv") throw new Error();
 * if (Array.isArray(folderPathSegments("../secret"))) throw new Error();
 * if (Array.isArray(folderPathSegments("/etc/passwd"))) throw new Error();
 * ```
 */
export function folderPathSegments(path: string): string[] | PathProblem {
  if (path.length > 4096) return { problem: "the path is too long" };
  if (path.includes("\0")) return { problem: "the path contains NUL" };
  if (path.startsWith("/")) {
    return { problem: "paths are relative to the folder, not absolute" };
  }
  const segments: string[] = [];
  const encoder = new TextEncoder();
  for (const s of path.split("/")) {
    if (s === "" || s === ".") continue;
    if (s === "..") return { problem: "the path may not contain '..'" };
    if (encoder.encode(s).length > 255) {
      return { problem: "a path segment is longer than 255 bytes" };
    }
    segments.push(s);
  }
  return segments;
}

/** One file or folder name (a rename's new name): a single segment. */
export function fileNameProblem(name: string): string | undefined {
  const segs = folderPathSegments(name);
  if (!Array.isArray(segs)) return segs.problem;
  if (segs.length !== 1 || segs[0] !== name) {
    return "a name is one path segment (no '/')";
  }
  return undefined;
}

/**
 * Dirs of the kernel's own a folder may not cover (the agent's container
 * spec refuses them too; checking here answers 400 before any container).
 */
export const SYSTEM_DIRS = [
  "/tmp",
  "/proc",
  "/sys",
  "/dev",
  "/etc",
  "/usr",
  "/bin",
  "/sbin",
  "/lib",
  "/lib64",
  "/opt/kernel",
  "/run/bai", // the runner protocol's socket (actors/agent/kernel/lane.ts)
] as const;

/** Where kernels see `/home/work`. */
export const KERNEL_WORK_DIR = "/home/work";

/**
 * Where a folder is mounted in a kernel: `mountMap[name]` when given (a
 * relative path is taken under `/home/work`), else `/home/work/NAME`.
 * Returns a problem for a target that is not a clean absolute path, or that
 * is `/home/work` itself.
 *
 * @example
 * ```ts
 * import { mountTarget } from "./vfolder.ts";
 * if (mountTarget("data", {}) !== "/home/work/data") throw new Error();
 * if (mountTarget("data", { data: "/mnt/d" }) !== "/mnt/d") throw new Error();
 * if (mountTarget("data", { data: "in/here" }) !== "/home/work/in/here") throw new Error();
 * ```
 */
export function mountTarget(
  name: string,
  mountMap: Readonly<Record<string, string>>,
): string | PathProblem {
  const raw = mountMap[name] ?? name;
  const abs = raw.startsWith("/") ? raw : `${KERNEL_WORK_DIR}/${raw}`;
  const segs = folderPathSegments(abs.slice(1));
  if (!Array.isArray(segs)) return segs;
  if (segs.length === 0) return { problem: "a folder cannot be mounted at /" };
  const target = "/" + segs.join("/");
  if (target === KERNEL_WORK_DIR) {
    return { problem: `a folder cannot replace ${KERNEL_WORK_DIR}` };
  }
  if (/[:,]/.test(target)) {
    return { problem: "a mount path may not contain ':' or ','" };
  }
  const system = SYSTEM_DIRS.find((d) =>
    target === d || target.startsWith(d + "/")
  );
  if (system) return { problem: `${system} is the kernel's own` };
  return target;
}

/**
 * Whether an agent that can mount `agentHosts` can run a session whose
 * folders live on `required` hosts: every required host must be among the
 * agent's. The scheduler filters candidate agents with it.
 *
 * @example
 * ```ts
 * import { agentSeesHosts } from "./vfolder.ts";
 * if (!agentSeesHosts(["local", "nfs1"], ["nfs1"])) throw new Error();
 * if (agentSeesHosts(["local"], ["nfs1"])) throw new Error();
 * if (!agentSeesHosts(undefined, [])) throw new Error();
 * ```
 */
export function agentSeesHosts(
  agentHosts: readonly string[] | undefined,
  required: readonly string[],
): boolean {
  if (required.length === 0) return true;
  if (!agentHosts || agentHosts.length === 0) return false;
  return required.every((h) => agentHosts.includes(h));
}
