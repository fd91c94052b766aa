/**
 * The network address a request came from. `serveGateway` (serve.ts)
 * records it per `Request`, since a `Request` built from `node:http` does
 * not carry it; under `Deno.serve` it comes from the handler's info (Hono
 * hands that over as the env). Used to limit failed dashboard sign-ins per
 * client.
 *
 * @module
 */

const peers = new WeakMap<Request, string>();

/** Records the address `req` arrived from. */
export function rememberPeer(req: Request, address: string | undefined): void {
  if (address) peers.set(req, address);
}

/** The address `req` arrived from, or `"unknown"`. */
export function peerAddress(req: Request, env?: unknown): string {
  const known = peers.get(req);
  if (known) return known;
  const info = env as { remoteAddr?: { hostname?: unknown } } | undefined;
  const host = info?.remoteAddr?.hostname;
  return typeof host === "string" && host ? host : "unknown";
}
