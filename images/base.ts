/**
 * The shared base image `bai/base:bookworm`: Debian bookworm minbase plus
 * python3 (the runner's language) from debootstrap, `docker import`ed, so
 * every kernel image layers on the same base layer.
 *
 * The rootfs tar is cached under var/cache/images/ (gitignored): re-imports
 * never re-download. The image carries `ai.backend.base-hash` (suite, mirror,
 * packages) so a changed base definition is rebuilt.
 *
 * @module
 */
import { DebootstrapError, DockerBuildError } from "./errors.ts";
import { inspect, run } from "./docker.ts";
import { sha256Hex } from "./hash.ts";
import type { Progress } from "./progress.ts";

export const BASE_REF = "bai/base:bookworm";
const SUITE = "bookworm";
const INCLUDE = ["python3"];
const CACHE_DIR = new URL("../var/cache/images/", import.meta.url).pathname;
/** Trimmed from the rootfs: documentation nobody reads in a kernel. */
const TRIM = [
  "usr/share/doc",
  "usr/share/man",
  "usr/share/info",
  "usr/share/locale",
];

/** The Debian mirror apt on this host uses (debootstrap needs one). */
export async function debianMirror(): Promise<string> {
  for (
    const file of [
      "/etc/apt/sources.list.d/debian.sources",
      "/etc/apt/sources.list",
    ]
  ) {
    try {
      const text = await Deno.readTextFile(file);
      const m = text.match(/^URIs:\s*(\S+\/debian)\s*$/m) ??
        text.match(/^deb\s+(?:\[[^\]]*\]\s+)?(\S+\/debian)\s/m);
      if (m) return m[1];
    } catch { /* try the next */ }
  }
  return "http://deb.debian.org/debian";
}

/** Identity of the base: changes when suite, mirror or packages do. */
export async function baseHash(): Promise<string> {
  return (await sha256Hex(
    JSON.stringify({ SUITE, INCLUDE, TRIM, mirror: await debianMirror() }),
  )).slice(0, 16);
}

/** Builds the base image unless an image with the same base hash exists; returns its id. */
export async function ensureBase(progress: Progress): Promise<string> {
  const hash = await baseHash();
  const [img] = await inspect([BASE_REF]);
  if (img && img.Config.Labels?.["ai.backend.base-hash"] === hash) {
    return img.Id;
  }
  const tar = `${CACHE_DIR}${SUITE}-minbase-${INCLUDE.join("-")}.tar`;
  if (!(await exists(tar))) await debootstrap(tar, progress);
  progress.stage("base", `docker import ${BASE_REF}`);
  const r = await run("docker", [
    "import",
    "--change",
    `LABEL ai.backend.base-hash=${hash} ai.backend.base-distro=debian12`,
    "--change",
    "ENV LANG=C.UTF-8 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    tar,
    BASE_REF,
  ]);
  if (r.code !== 0) {
    throw new DockerBuildError(
      `docker import failed: ${r.stderr.trim()}`,
      BASE_REF,
    );
  }
  const [made] = await inspect([BASE_REF]);
  return made.Id;
}

/** Makes the base rootfs tar at `tar` with debootstrap (about a minute, needs root). */
export async function debootstrap(
  tar: string,
  progress: Progress,
): Promise<void> {
  await Deno.mkdir(tar.slice(0, tar.lastIndexOf("/")) || ".", {
    recursive: true,
  });
  const dir = await Deno.makeTempDir({ prefix: "bai-rootfs-" });
  try {
    const mirror = await debianMirror();
    progress.stage(
      "base",
      `debootstrap --variant=minbase ${SUITE} from ${mirror} (about a minute)`,
    );
    const r = await run("debootstrap", [
      "--variant=minbase",
      `--include=${INCLUDE.join(",")}`,
      SUITE,
      dir,
      mirror,
    ]).catch((e) => {
      throw new DebootstrapError(
        `debootstrap could not start: ${e.message}`,
        BASE_REF,
        { cause: e },
      );
    });
    if (r.code !== 0) {
      const tail = (r.stdout + r.stderr).trim().split("\n").slice(-8).join(
        "\n",
      );
      throw new DebootstrapError(
        `debootstrap failed (exit ${r.code}):\n${tail}`,
        BASE_REF,
      );
    }
    await run("bash", [
      "-c",
      `cd ${dir} && rm -rf ${
        TRIM.map((t) => `${t}/*`).join(" ")
      } var/cache/apt/archives/*.deb var/lib/apt/lists/*`,
    ]);
    progress.stage("base", "packing the rootfs");
    const t = await run("tar", [
      "-C",
      dir,
      "-cf",
      `${tar}.${Deno.pid}.tmp`,
      ".",
    ]);
    if (t.code !== 0) {
      throw new DebootstrapError(
        `tar of the rootfs failed: ${t.stderr.trim()}`,
        BASE_REF,
      );
    }
    await Deno.rename(`${tar}.${Deno.pid}.tmp`, tar);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}
