/**
 * Browser libraries reach the dashboard from their npm packages with
 * `"nodeModulesDir": "none"`: a fresh DENO_DIR (as on a new machine)
 * fetches them with the rest of the manager's dependencies, checked against
 * deno.lock, and the bytes served are the package's file, unchanged.
 */
import { createHash } from "node:crypto";
import { assert, assertEquals } from "../support/assert.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** npm files the dashboard serves: asset name → [package, version, file]. */
const FROM_NPM: Record<string, [string, string, string]> = {
  "vendor/uplot.js": ["uplot", "1.6.32", "dist/uPlot.iife.min.js"],
  "vendor/uplot.css": ["uplot", "1.6.32", "dist/uPlot.min.css"],
  "vendor/xterm.js": ["@xterm/xterm", "6.0.0", "lib/xterm.js"],
  "vendor/xterm.css": ["@xterm/xterm", "6.0.0", "css/xterm.css"],
  "vendor/xterm-fit.js": ["@xterm/addon-fit", "0.11.0", "lib/addon-fit.js"],
  "vendor/tus.js": ["tus-js-client", "4.3.1", "dist/tus.min.js"],
};

Deno.test({
  name: "dashboard assets come from npm packages under a fresh DENO_DIR",
  sanitizeResources: false,
  async fn() {
    const denoDir = await Deno.makeTempDir({ prefix: "bai-denodir-" });
    try {
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-read",
          "--config",
          `${ROOT}deno.json`,
          "--frozen",
          `${ROOT}tests/ui/_assets_probe.ts`,
        ],
        env: { DENO_DIR: denoDir, NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(out.stderr);
      assert(out.success, `probe failed: ${stderr}`);
      const served = JSON.parse(new TextDecoder().decode(out.stdout)) as Record<
        string,
        { bytes: number; sha256: string }
      >;
      for (const [name, [pkg, version, file]] of Object.entries(FROM_NPM)) {
        // Where Deno's global npm cache keeps the package it just fetched.
        const path =
          `${denoDir}/npm/registry.npmjs.org/${pkg}/${version}/${file}`;
        const bytes = await Deno.readFile(path);
        assertEquals(served[name]?.bytes, bytes.byteLength, name);
        assertEquals(
          served[name]?.sha256,
          createHash("sha256").update(bytes).digest("hex"),
          name,
        );
      }
      assert(served["app.js"]?.bytes > 0 && served["style.css"]?.bytes > 0);
    } finally {
      await Deno.remove(denoDir, { recursive: true }).catch(() => {});
    }
  },
});
