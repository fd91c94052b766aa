/**
 * The dashboard's static files: our islands and stylesheet, and browser
 * libraries taken from their npm packages.
 *
 * How npm files are served under `"nodeModulesDir": "none"`: each file is
 * a text import (`import js from "uplot/dist/uPlot.iife.min.js" with {
 * type: "text" }`). Deno resolves it through deno.json's import map like any
 * npm dependency, fetches and integrity-checks the package (deno.lock) into
 * its cache on first run, and hands us the file's text; no node_modules, no
 * path into Deno's cache, no build step, and `deno compile` would embed it.
 * A fresh DENO_DIR fetches it like every other dependency
 * (tests/ui/assets_test.ts checks the bytes against the package's file).
 *
 * Adding a library is one `deno add`, one import and one table line
 * below.
 *
 * Files are served at `/ui/assets/NAME?v=HASH`; a URL with the current hash
 * is cached for a year (the hash changes with the content).
 *
 * @module
 */
import { createHash } from "node:crypto";
import appJs from "./static/app.js" with { type: "text" };
import styleCss from "./static/style.css" with { type: "text" };
import usageChartJs from "./static/usage_chart.js" with { type: "text" };
import statsChartJs from "./static/stats_chart.js" with { type: "text" };
import foldersJs from "./static/folders.js" with { type: "text" };
import terminalJs from "./static/terminal.js" with { type: "text" };
import newSessionJs from "./static/new_session.js" with { type: "text" };
import uplotJs from "uplot/dist/uPlot.iife.min.js" with { type: "text" };
import uplotCss from "uplot/dist/uPlot.min.css" with { type: "text" };
import xtermJs from "@xterm/xterm/lib/xterm.js" with { type: "text" };
import xtermCss from "@xterm/xterm/css/xterm.css" with { type: "text" };
import xtermFitJs from "@xterm/addon-fit/lib/addon-fit.js" with {
  type: "text",
};
import tusJs from "tus-js-client/dist/tus.min.js" with { type: "text" };

const JS = "text/javascript; charset=utf-8";
const CSS = "text/css; charset=utf-8";

/** One served file. */
export interface Asset {
  body: Uint8Array<ArrayBuffer>;
  type: string;
  /** First 16 hex digits of the SHA-256 of the body. */
  hash: string;
}

const SOURCES: Record<string, { text: string; type: string }> = {
  "app.js": { text: appJs, type: JS },
  "style.css": { text: styleCss, type: CSS },
  "usage_chart.js": { text: usageChartJs, type: JS },
  "stats_chart.js": { text: statsChartJs, type: JS },
  "folders.js": { text: foldersJs, type: JS },
  "terminal.js": { text: terminalJs, type: JS },
  "new_session.js": { text: newSessionJs, type: JS },
  // npm: uplot (MIT), a small time-series chart: live usage, statistics.
  "vendor/uplot.js": { text: uplotJs, type: JS },
  "vendor/uplot.css": { text: uplotCss, type: CSS },
  // npm: @xterm/xterm (MIT), the terminal emulator VS Code uses; UMD build (global `Terminal`).
  "vendor/xterm.js": { text: xtermJs, type: JS },
  "vendor/xterm.css": { text: xtermCss, type: CSS },
  // npm: @xterm/addon-fit (MIT), sizes the terminal to its box (global `FitAddon`).
  "vendor/xterm-fit.js": { text: xtermFitJs, type: JS },
  // npm: tus-js-client (MIT), resumable uploads to the storage node (global `tus`).
  "vendor/tus.js": { text: tusJs, type: JS },
};

/** Every asset by name. */
export const ASSETS: ReadonlyMap<string, Asset> = new Map(
  Object.entries(SOURCES).map(([name, s]) => {
    const body = new TextEncoder().encode(s.text);
    const hash = createHash("sha256").update(body).digest("hex").slice(0, 16);
    return [name, { body, type: s.type, hash }];
  }),
);

/** The URL of an asset, versioned by its content. */
export function assetUrl(name: string): string {
  const a = ASSETS.get(name);
  if (!a) throw new Error(`unknown dashboard asset ${name}`);
  return `/ui/assets/${name}?v=${a.hash}`;
}

/** Answers `GET /assets/NAME` of the dashboard app; undefined when no such asset. */
export function assetResponse(
  name: string,
  version: string | undefined,
  ifNoneMatch: string | undefined,
): Response | undefined {
  const a = ASSETS.get(name);
  if (!a) return undefined;
  const etag = `"${a.hash}"`;
  const headers = {
    "Content-Type": a.type,
    ETag: etag,
    "Cache-Control": version === a.hash
      ? "public, max-age=31536000, immutable"
      : "no-cache",
  };
  if (ifNoneMatch === etag) return new Response(null, { status: 304, headers });
  return new Response(a.body, { headers });
}
