/**
 * `X-Method-Override` (API.md "Versions"): a request is re-dispatched with the
 * method the header names before routing. Its body is read here once and
 * handed on (a `GET` `Request` cannot carry one), and the original method is
 * remembered so auth.ts can also accept a signature over it.
 *
 * @module
 */

import { ProblemError } from "./problems.ts";

const preloaded = new WeakMap<Request, Uint8Array<ArrayBuffer>>();
const originals = new WeakMap<Request, string>();

/**
 * The methods an override may name: the ones the API routes use, plus HEAD
 * and OPTIONS. TRACE and CONNECT cannot be put on a `Request` at all, and
 * anything else routes nowhere.
 */
export const OVERRIDABLE_METHODS: ReadonlySet<string> = new Set([
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "PATCH",
  "DELETE",
  "OPTIONS",
]);

/**
 * Returns the request to route: the same one without the header, else a
 * copy with the overriding method (the body is preloaded with `readBody`).
 * @throws {ProblemError} 400 generic-bad-request for a method not in
 * {@link OVERRIDABLE_METHODS} (before the body is read).
 */
export async function applyMethodOverride(
  req: Request,
  readBody: (req: Request) => Promise<Uint8Array<ArrayBuffer>>,
): Promise<Request> {
  const override = req.headers.get("x-method-override");
  const method = override?.trim().toUpperCase();
  if (!method) return req;
  if (!OVERRIDABLE_METHODS.has(method)) {
    throw new ProblemError("generic-bad-request", {
      msg: `X-Method-Override names an unsupported method: ${
        JSON.stringify(method.slice(0, 32))
      } (use one of ${[...OVERRIDABLE_METHODS].join(", ")})`,
    });
  }
  if (method === req.method) return req;
  const body = await readBody(req);
  const headers = new Headers(req.headers);
  headers.delete("x-method-override");
  const copy = new Request(req.url, { method, headers });
  preloaded.set(copy, body);
  originals.set(copy, req.method);
  return copy;
}

/**
 * Hands a body read by the listener to the app (serve.ts: GET bodies, which
 * a `Request` cannot carry).
 */
export function preloadBody(req: Request, body: Uint8Array<ArrayBuffer>): void {
  preloaded.set(req, body);
}

/** The body read by {@link applyMethodOverride} or {@link preloadBody}, if any. */
export function preloadedBody(
  req: Request,
): Uint8Array<ArrayBuffer> | undefined {
  return preloaded.get(req);
}

/** The method the client actually sent, if this request is an override copy. */
export function originalMethod(req: Request): string | undefined {
  return originals.get(req);
}
