/**
 * `X-Method-Override` (API.md "Versions"): a request is re-dispatched with the
 * method the header names before routing. Its body is read here once and
 * handed on (a `GET` `Request` cannot carry one), and the original method is
 * remembered so auth.ts can also accept a signature over it.
 *
 * @module
 */

const preloaded = new WeakMap<Request, Uint8Array<ArrayBuffer>>();
const originals = new WeakMap<Request, string>();

const TOKEN = /^[A-Za-z]+$/;

/**
 * Returns the request to route: the same one without the header, else a
 * copy with the overriding method (the body is preloaded with `readBody`).
 */
export async function applyMethodOverride(
  req: Request,
  readBody: (req: Request) => Promise<Uint8Array<ArrayBuffer>>,
): Promise<Request> {
  const override = req.headers.get("x-method-override");
  if (!override || !TOKEN.test(override)) return req;
  const method = override.toUpperCase();
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
