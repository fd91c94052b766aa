/**
 * The lines `deno task start` prints once the cluster is up: where it
 * serves, the admin keypair in use, and client commands that work as
 * printed (the client finds the port in `<dataDir>/endpoint`; a data dir
 * other than `./var` is named in the command).
 *
 * @module
 */

import { relative, resolve } from "node:path";

/** What the banner tells. */
export interface BannerFacts {
  url: string;
  /** Absolute data dir. */
  dataDir: string;
  adminAccessKey: string;
  /** The keypair came from ADMIN_ACCESS_KEY / ADMIN_SECRET_KEY (no key file). */
  adminFromEnv: boolean;
  /** @default {Deno.cwd()} */
  cwd?: string;
}

/**
 * The banner text (no trailing newline).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { startBanner } from "./start_banner.ts";
 * const text = startBanner({ url: "http://127.0.0.1:8082", dataDir: "/srv/b/var2",
 *   adminAccessKey: "AKIAEXAMPLE", adminFromEnv: false, cwd: "/srv/b" });
 * assert.ok(text.includes("DATA_DIR=var2 deno task cli ps"));
 * ```
 */
export function startBanner(f: BannerFacts): string {
  const cwd = f.cwd ?? Deno.cwd();
  const rel = relative(cwd, f.dataDir);
  const shown = rel && !rel.startsWith("..") ? rel : f.dataDir;
  let prefix = resolve(cwd, "var") === resolve(f.dataDir)
    ? ""
    : `DATA_DIR=${shellWord(shown)} `;
  if (f.adminFromEnv) {
    prefix +=
      "BACKEND_ACCESS_KEY=$ADMIN_ACCESS_KEY BACKEND_SECRET_KEY=$ADMIN_SECRET_KEY ";
  }
  const keys = f.adminFromEnv
    ? "from ADMIN_ACCESS_KEY"
    : `saved in ${shown}/admin.keypair`;
  return [
    `start: cluster ready on ${f.url} (admin keypair ${f.adminAccessKey}, ${keys}) — try:`,
    `  ${prefix}deno task cli run --rm -c 'print(6 * 7)'`,
    `  ${prefix}deno task cli ps`,
  ].join("\n");
}

function shellWord(s: string): string {
  return /^[\w./+-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}
