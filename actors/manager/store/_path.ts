/**
 * The few path helpers the store needs, from node:path (JSR's @std/path
 * cannot be fetched here).
 *
 * @module
 */
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** file: URL → path. */
export function fromFileUrl(url: string | URL): string {
  return fileURLToPath(url);
}

export { basename, dirname, join, relative, resolve };
