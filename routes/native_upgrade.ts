/**
 * WebSocket upgrades of serveGateway (serve.ts) on the client's own TCP
 * connection: `Deno.upgradeWebSocket(req, { socket, head })` takes a
 * `node:http` upgrade's socket and runs the WebSocket natively on it.
 *
 * Why: the gateway used to relay each upgraded connection byte for byte to
 * a private `Deno.serve` listener. Every cluster frame (agents dial the
 * manager's port) and every streamed output frame then crossed two more
 * loopback sockets and node's stream machinery: the relay's writes alone
 * were ~0.3 ms of the manager's CPU per query (a CPU profile of the exec
 * benchmark), and each hop more latency.
 *
 * How the socket reaches `Deno.upgradeWebSocket`: the route that upgrades
 * (the cluster's `acceptUpgrade`, `/stream/...`, terminals, proxies) calls
 * it with the request alone. {@link installNativeUpgrade} wraps the
 * function once, for requests this module made and registered only: those
 * get their socket added; every other call is passed through untouched.
 * (A route could pass the options itself; the cluster's `acceptUpgrade`
 * takes none yet, and this keeps every caller unchanged.)
 *
 * @module
 */
import type http from "node:http";
import type net from "node:net";
import { rememberPeer } from "./peer.ts";

interface Pending {
  socket: net.Socket;
  head: Uint8Array;
  upgraded: boolean;
  /** A route took the raw socket ({@link takeRawUpgrade}): its answer is ignored. */
  taken?: boolean;
}

const pending = new WeakMap<Request, Pending>();
let installed = false;

/** Wraps `Deno.upgradeWebSocket` so registered requests upgrade on their own socket (idempotent). */
export function installNativeUpgrade(): void {
  if (installed) return;
  installed = true;
  const upgrade = Deno.upgradeWebSocket;
  Object.defineProperty(Deno, "upgradeWebSocket", {
    configurable: true,
    writable: true,
    value: function upgradeWebSocket(
      req: Request,
      options?: Deno.UpgradeWebSocketOptions,
    ): Deno.WebSocketUpgrade {
      const p = pending.get(req);
      if (!p) return upgrade(req, options);
      p.upgraded = true;
      const up = upgrade(req, { ...options, socket: p.socket, head: p.head });
      // Deno takes the socket's stream without telling node, whose server
      // would count it as open for ever: against its connection limit, and
      // `close()` would wait for it. Do what node's own socket destroy does
      // for its server, then say the socket closed (for its listeners).
      const release = () => released(p.socket);
      up.socket.addEventListener("open", release, { once: true });
      up.socket.addEventListener("error", release, { once: true });
      return up;
    },
  });
}

/** Node's server-side accounting for a socket whose stream Deno took. */
function released(socket: net.Socket): void {
  const s = socket as net.Socket & {
    _server?: { _connections: number; _emitCloseIfDrained?(): void } | null;
  };
  const server = s._server;
  if (server) {
    s._server = null;
    server._connections--;
    server._emitCloseIfDrained?.();
  }
  socket.emit("close", false);
}

/**
 * Hands a `node:http` upgrade to `app`: the request is built from the raw
 * head, and a route that upgrades it gets a WebSocket on `socket` (its 101
 * is written by Deno). Any other answer (a 401, a 404, a 426) is written to
 * the socket as a plain response, and the socket closed.
 */
export async function upgradeOnSocket(
  app: { fetch(req: Request): Response | Promise<Response> },
  req: Pick<http.IncomingMessage, "method" | "url" | "rawHeaders"> & {
    headers: { host?: string };
  },
  socket: net.Socket,
  head: Uint8Array,
  fallbackHost: string,
): Promise<void> {
  installNativeUpgrade();
  // Frames are small and latency-bound (cluster asks, streamed output):
  // Nagle would hold each second frame ~40 ms for an ACK.
  socket.setNoDelay(true);
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    pairs.push([req.rawHeaders[i], req.rawHeaders[i + 1]]);
  }
  let headers: Headers;
  try {
    headers = new Headers(pairs); // all valid: one conversion
  } catch {
    // A value Headers refuses (raw control bytes) is dropped.
    headers = new Headers();
    for (const [k, v] of pairs) {
      try {
        headers.append(k, v);
      } catch { /* dropped */ }
    }
  }
  const request = new Request(
    `http://${req.headers.host ?? fallbackHost}${req.url ?? "/"}`,
    { method: req.method ?? "GET", headers },
  );
  rememberPeer(request, socket.remoteAddress);
  const p: Pending = { socket, head, upgraded: false };
  pending.set(request, p);
  let res: Response;
  try {
    res = await app.fetch(request);
  } catch {
    res = new Response(null, { status: 500 });
  }
  if (p.taken) return; // the route speaks on the socket itself
  if (p.upgraded && res.status === 101) return; // Deno owns the socket now
  await writeRaw(socket, res);
}

/** Writes `res` as an HTTP/1.1 response on a raw socket and closes it. */
async function writeRaw(socket: net.Socket, res: Response): Promise<void> {
  const body = new Uint8Array(
    await res.arrayBuffer().catch(() => new ArrayBuffer(0)),
  );
  const lines = [`HTTP/1.1 ${res.status} ${res.statusText || "Response"}`];
  res.headers.forEach((v, k) => {
    if (k !== "content-length" && k !== "connection") lines.push(`${k}: ${v}`);
  });
  lines.push(`content-length: ${body.byteLength}`, "connection: close");
  socket.on("error", () => socket.destroy());
  if (socket.destroyed) return;
  socket.write(lines.join("\r\n") + "\r\n\r\n");
  socket.end(body);
}

/**
 * For a route that speaks WebSocket itself on the client's connection (a
 * TCP tunnel that must stop reading while its far end is slow, which
 * Deno's WebSocket cannot: routes/tunnel_socket.ts): the socket of a
 * registered upgrade and the bytes read past its head, or undefined when
 * `req` came another way (then use `Deno.upgradeWebSocket`). The route
 * owns the socket from then on (it writes the 101); whatever it answers
 * is not written.
 */
export function takeRawUpgrade(
  req: Request,
): { socket: net.Socket; head: Uint8Array } | undefined {
  const p = pending.get(req);
  if (!p || p.upgraded || p.taken) return undefined;
  p.taken = true;
  return { socket: p.socket, head: p.head };
}
