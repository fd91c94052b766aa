/**
 * Writing to the user's stdout and stderr, whole (a pipe may take a write
 * in parts), and JSON as the client shows it.
 *
 * @module
 */

const encoder = new TextEncoder();

/** Where a verb writes; tests pass collectors. */
export interface Output {
  out(text: string): Promise<void>;
  err(text: string): Promise<void>;
}

async function writeAll(
  w: { write(p: Uint8Array): Promise<number> },
  text: string,
): Promise<void> {
  const bytes = encoder.encode(text);
  let at = 0;
  while (at < bytes.length) at += await w.write(bytes.subarray(at));
}

/** The process's stdout and stderr. */
export const stdio: Output = {
  out: (text) => writeAll(Deno.stdout, text),
  err: (text) => writeAll(Deno.stderr, text),
};

/**
 * The values at comma-separated dot paths of `value` (`result.status`,
 * `result.console.0`), one per line: strings as they are, the rest as
 * compact JSON.
 * @throws {Error} naming a path the value does not have
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pick } from "./output.ts";
 * assert.ok(pick({ result: { status: "finished", exitCode: 0 } }, "result.status,result.exitCode") === "finished\n0\n");
 * ```
 */
export function pick(value: unknown, paths: string): string {
  let text = "";
  for (const path of paths.split(",").map((p) => p.trim()).filter(Boolean)) {
    let v: unknown = value;
    for (const key of path.split(".")) {
      if (v === null || typeof v !== "object" || !(key in v)) {
        throw new Error(`the answer has no ${path}`);
      }
      v = (v as Record<string, unknown>)[key];
    }
    text += (typeof v === "string" ? v : JSON.stringify(v)) + "\n";
  }
  return text;
}
