/**
 * Text the gateway accepts from clients, checked once at the edge for every
 * route: no NUL character and no lone UTF-16 surrogate in any string (body
 * members and their keys at any depth, query values, path segments).
 * Postgres cannot store either (`invalid byte sequence for encoding "UTF8":
 * 0x00`, `\u0000 cannot be converted to text`), kernels' file systems refuse
 * NUL in paths, and a surrogate half has no UTF-8 form at all, so such a
 * request is refused with 400 before anything is stored, admitted or sent.
 *
 * One check over the decoded parameters rather than a refinement on each zod
 * field: it also covers members the schemas pass through untyped
 * (`resourceOpts`, execute `options`) and routes that read parameters by
 * hand.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import type { GatewayEnv } from "./context.ts";
import { InvalidApiParams } from "./problems.ts";

/** Nesting deeper than this is refused (JSON bombs, stack use in later walks). */
export const MAX_DEPTH = 64;

/** Why `text` cannot be accepted, or undefined when it can. */
export function textProblem(text: string): string | undefined {
  if (text.includes("\u0000")) return "contains a NUL character";
  if (!text.isWellFormed()) return "contains a lone UTF-16 surrogate";
  return undefined;
}

/**
 * Throws 400 invalid-api-params naming the first bad string (or key) in
 * `value`, or a nesting deeper than {@link MAX_DEPTH}.
 *
 * @example
 * ```ts
 * import { assertCleanInput } from "./input.ts";
 * assertCleanInput({ tag: "ok", config: { environ: { A: "1" } } }); // passes
 * try {
 *   assertCleanInput({ tag: "a\u0000b" });
 * } catch (e) {
 *   console.log((e as Error).message); // tag contains a NUL character
 * }
 * ```
 */
export function assertCleanInput(value: unknown, where = ""): void {
  walk(value, where, 0);
}

function walk(value: unknown, path: string, depth: number): void {
  if (typeof value === "string") {
    const why = textProblem(value);
    if (why) refuse(path, why);
    return;
  }
  if (value === null || typeof value !== "object") return;
  if (depth >= MAX_DEPTH) refuse(path, `nests deeper than ${MAX_DEPTH} levels`);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      walk(value[i], join(path, String(i)), depth + 1);
    }
    return;
  }
  for (const [k, v] of Object.entries(value)) {
    const why = textProblem(k);
    if (why) refuse(join(path, JSON.stringify(k)), `key ${why}`);
    walk(v, join(path, k), depth + 1);
  }
}

const join = (path: string, key: string) => (path ? `${path}.${key}` : key);

function refuse(path: string, why: string): never {
  const where = path || "the parameters";
  throw new InvalidApiParams(`${where} ${why}`, [{ path, message: why }]);
}

/**
 * Middleware refusing a request whose path does not decode to clean text:
 * a malformed percent escape, a NUL (`/session/a%00b`) or a surrogate half.
 * Runs before authentication, so nothing downstream (look-ups, actor names,
 * SQL) ever sees such a segment.
 */
export function cleanPath(): MiddlewareHandler<GatewayEnv> {
  return async (c, next) => {
    const url = c.req.url;
    const start = url.indexOf("/", url.indexOf("//") + 2);
    const q = url.indexOf("?", start);
    const raw = url.slice(start, q < 0 ? undefined : q);
    if (raw.includes("%")) {
      for (const segment of raw.split("/")) {
        let decoded: string;
        try {
          decoded = decodeURIComponent(segment);
        } catch {
          refuse("path", "has a malformed percent escape");
        }
        const why = textProblem(decoded);
        if (why) refuse("path", `segment ${why}`);
      }
    }
    await next();
  };
}
