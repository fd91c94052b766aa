/**
 * `serveGateway(app)`: the HTTP listener for the gateway. Use it rather
 * than `Deno.serve(app.fetch)`.
 *
 * Why: Backend.AI's Python SDK sends JSON bodies on GET (`download` sends
 * `{"files": [...]}`, `list_files` sends `{"path": ...}`), and `Deno.serve`
 * drops the body of every GET/HEAD request (its `Request.body` is always
 * null for them). `node:http` keeps it, so requests arrive here, their GET
 * bodies are handed to the app through override.ts's preloaded-body map, and
 * responses stream back. A WebSocket upgrade is handed to the app with its
 * socket, and the route's `Deno.upgradeWebSocket` runs the WebSocket
 * natively on that connection (native_upgrade.ts; no relay).
 *
 * @module
 */
import http from "node:http";
import net from "node:net";
import type { Hono } from "hono";
import type { GatewayEnv } from "./context.ts";
import { preloadBody } from "./override.ts";
import { rememberPeer } from "./peer.ts";
import { ProblemError, problemResponse } from "./problems.ts";
import { upgradeProblem } from "./upgrade.ts";
import { upgradeOnSocket } from "./native_upgrade.ts";
import { serveFast } from "./fast_http.ts";

/** Bodies up to this size are read whole by the fast path; larger ones stream through node:http. */
const FAST_BODY_BYTES = 1 << 20;
/** node:http's own limit on a request head (it answers 431 past it). */
const FAST_HEAD_BYTES = 16 << 10;

/** Options of {@link serveGateway}. */
export interface ServeOptions {
  /** @default {"127.0.0.1"} */
  hostname?: string;
  /** 0 picks a free port. @default {0} */
  port?: number;
  /** Bytes of a GET/HEAD body kept; a longer one closes the connection. @default {1048576} */
  maxGetBodyBytes?: number;
  /**
   * A new connection that has not sent a whole request head this long after
   * it opened is closed: a client dribbling its headers a byte a second
   * cannot hold a socket for ever. @default {20000}
   */
  headersTimeoutMs?: number;
  /**
   * A kept-alive connection idle this long after its last response is
   * closed. Longer than clients keep idle connections pooled (hyper, and so
   * Deno's fetch: 90 s; browsers up to 300 s), so that a client never sends
   * a request on a connection this server is closing at that moment (a
   * POST lost that way is not retried). @default {330000}
   */
  idleTimeoutMs?: number;
  /**
   * Open connections at most (WebSockets included; each relayed one costs
   * three file descriptors); more are closed at once, before they cost
   * anything, so a flood cannot exhaust the process's descriptors and
   * starve everyone. @default {a third of the open-files limit less 256, at most 10000}
   */
  maxConnections?: number;
  /** Called once listening. */
  onListen?: (addr: { hostname: string; port: number }) => void;
}

/** A running gateway listener. */
export interface GatewayServer {
  hostname: string;
  port: number;
  /** Stops accepting, closes connections, and resolves when both listeners are down. */
  shutdown(): Promise<void>;
}

const EMPTY = new Uint8Array();

function toHeaders(raw: string[]): Headers {
  const h = new Headers();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    try {
      h.append(raw[i], raw[i + 1]);
    } catch {
      // A header value Headers refuses (e.g. raw control bytes) is dropped.
    }
  }
  return h;
}

async function readAll(
  req: http.IncomingMessage,
  max: number,
): Promise<Uint8Array<ArrayBuffer> | undefined> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > max) return undefined;
    chunks.push(chunk);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

async function writeResponse(
  res: http.ServerResponse,
  response: Response,
): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((v, k) => headers[k] = v);
  // forEach yields each Set-Cookie on its own: keep them all, not the last.
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 1) headers["set-cookie"] = cookies;
  if (!response.body) {
    res.writeHead(response.status, headers);
    res.end();
    return;
  }
  const type = response.headers.get("content-type") ?? "";
  if (
    type.startsWith("application/json") ||
    type.startsWith("application/problem+json")
  ) {
    // JSON replies are small and complete: one read, sent with a Content-Length.
    const bytes = new Uint8Array(await response.arrayBuffer());
    res.writeHead(response.status, {
      ...headers,
      "content-length": String(bytes.byteLength),
    });
    res.end(bytes);
    return;
  }
  const reader = response.body.getReader();
  // A client that goes away cancels the body (e.g. an SSE stream stops its source).
  res.once("close", () => reader.cancel().catch(() => {}));
  try {
    if (type.startsWith("text/event-stream")) {
      // node:http would hold the head until the first event, which may be far off.
      res.writeHead(response.status, headers);
      res.flushHeaders();
    } else {
      // A one-chunk reply is sent with a Content-Length, longer ones chunked.
      const first = await reader.read();
      if (first.done) {
        res.writeHead(response.status, { ...headers, "content-length": "0" });
        res.end();
        return;
      }
      const second = await reader.read();
      if (second.done) {
        res.writeHead(response.status, {
          ...headers,
          "content-length": String(first.value.byteLength),
        });
        res.end(first.value);
        return;
      }
      res.writeHead(response.status, headers);
      res.write(first.value);
      if (!res.write(second.value)) {
        await new Promise((r) => res.once("drain", r));
      }
    }
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) await new Promise((r) => res.once("drain", r));
    }
  } catch {
    // Cancelled or failed mid-stream: nothing more to send.
  }
  res.end();
}

/**
 * The request body as a web stream, with backpressure, and a cancel that
 * is safe: `Readable.toWeb(req)` kept enqueuing chunks that arrived after
 * the app cancelled the body (a 413 on its Content-Length), and the
 * "cannot close or enqueue" TypeError it threw from a `data` handler took
 * the whole process down. After a cancel the rest is not read at all; the
 * connection is closed once the response is out (see the handler).
 */
function requestBody(req: http.IncomingMessage): ReadableStream<Uint8Array> {
  let open = true;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      req.on("data", (chunk: Uint8Array) => {
        if (!open) return;
        controller.enqueue(new Uint8Array(chunk));
        if ((controller.desiredSize ?? 1) <= 0) req.pause();
      });
      req.once("end", () => {
        if (open) controller.close();
        open = false;
      });
      req.once("error", (e: Error) => {
        if (open) controller.error(e);
        open = false;
      });
      req.pause();
    },
    pull() {
      req.resume();
    },
    cancel() {
      open = false;
      req.pause();
    },
  }, { highWaterMark: 4 });
}

const deadlines = new WeakMap<net.Socket, ReturnType<typeof setTimeout>>();

/** Closes `socket` unless a request head arrives within `ms`. */
function arm(socket: net.Socket, ms: number): void {
  disarm(socket);
  if (socket.destroyed) return;
  const t = setTimeout(() => socket.destroy(), ms);
  Deno.unrefTimer(t as unknown as number);
  deadlines.set(socket, t);
}

function disarm(socket: net.Socket): void {
  clearTimeout(deadlines.get(socket));
  deadlines.delete(socket);
}

/** A third of the soft open-files limit (less some for the rest), at most 10,000. */
function defaultMaxConnections(): number {
  let limit = 1024;
  try {
    const m = /Max open files\s+(\d+)/.exec(
      Deno.readTextFileSync("/proc/self/limits"),
    );
    if (m) limit = Number(m[1]);
  } catch {
    // Not Linux: keep the common default.
  }
  return Math.max(64, Math.min(10_000, Math.floor((limit - 256) / 3)));
}

/** Answers a refused request (an upgrade, a malformed head) on the raw socket and closes it. */
function refuseOnSocket(socket: net.Socket, problem: ProblemError): void {
  const body = new TextEncoder().encode(JSON.stringify(problem.toJSON()));
  const lines = [
    `HTTP/1.1 ${problem.status} ${http.STATUS_CODES[problem.status] ?? ""}`,
    "Content-Type: application/problem+json",
    `Content-Length: ${body.byteLength}`,
    "Server: BackendAI",
    "Connection: close",
    ...Object.entries(problem.headers ?? {}).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.on("error", () => socket.destroy());
  socket.write(lines.join("\r\n") + "\r\n\r\n");
  socket.end(body);
}

/** Serves `app` (from `createGateway`) over HTTP, WebSocket upgrades included. */
export async function serveGateway(
  app: Pick<Hono<GatewayEnv>, "fetch"> | {
    fetch(req: Request): Response | Promise<Response>;
  },
  options: ServeOptions = {},
): Promise<GatewayServer> {
  const hostname = options.hostname ?? "127.0.0.1";
  const maxGetBody = options.maxGetBodyBytes ?? 1 << 20;

  const headersTimeoutMs = options.headersTimeoutMs ?? 20_000;
  const idleTimeoutMs = options.idleTimeoutMs ?? 330_000;
  const server = http.createServer(async (req, res) => {
    // A whole head arrived: no deadline while the request is served; the
    // next one (keep-alive) gets a fresh one once this response is done.
    const socket = req.socket;
    disarm(socket);
    res.once("finish", () => arm(socket, idleTimeoutMs));
    try {
      if (!req.url?.startsWith("/")) {
        const problem = new ProblemError("generic-bad-request", {
          msg: "Origin-form request target expected.",
        });
        await writeResponse(res, problemResponse(problem));
        return;
      }
      const method = req.method ?? "GET";
      const url = `http://${req.headers.host ?? hostname}${req.url ?? "/"}`;
      const headers = toHeaders(req.rawHeaders);
      let request: Request;
      if (method === "GET" || method === "HEAD") {
        const hasBody = req.headers["content-length"] !== undefined &&
            req.headers["content-length"] !== "0" ||
          req.headers["transfer-encoding"] !== undefined;
        const body = hasBody ? await readAll(req, maxGetBody) : EMPTY;
        if (!body) {
          res.destroy();
          return;
        }
        request = new Request(url, { method, headers });
        if (body.byteLength > 0) preloadBody(request, body);
      } else {
        request = new Request(url, {
          method,
          headers,
          body: requestBody(req),
          // @ts-ignore: `duplex` is required for a streamed body but missing from the types.
          duplex: "half",
        });
      }
      rememberPeer(request, req.socket.remoteAddress);
      const response = await app.fetch(request);
      // node:http serves only what the fast path handed over (chunked or
      // large bodies, odd heads), and a second request on a connection it
      // kept alive was lost now and then (the client saw it closed while
      // sending). Such connections carry one request each.
      res.shouldKeepAlive = false;
      if (!req.complete) {
        // Answered before its body was read (a 4xx from the version check,
        // a 413): what is left of the body would be read as the next
        // request on this connection and hang it. Close the connection.
        try {
          response.headers.set("Connection", "close");
        } catch {
          // Immutable headers (a proxied reply): the close below still holds.
        }
        res.once("finish", () => socket?.destroy());
      }
      await writeResponse(res, response);
    } catch (err) {
      console.error("gateway: listener failure", err);
      if (res.headersSent) res.end();
      else {await writeResponse(
          res,
          problemResponse(new ProblemError("internal-server-error")),
        );}
    }
  });

  server.on(
    "upgrade",
    (req: http.IncomingMessage, socket: net.Socket, head: Uint8Array) => {
      disarm(socket);
      const refused = upgradeProblem({
        get: (name) => {
          const v = req.headers[name];
          return v === undefined ? null : Array.isArray(v) ? v.join(",") : v;
        },
      });
      if (refused) {
        refuseOnSocket(socket, refused);
        return;
      }
      // The WebSocket runs natively on this very socket (native_upgrade.ts).
      upgradeOnSocket(app, req, socket, head, hostname).catch(() =>
        socket.destroy()
      );
    },
  );

  // A request node's parser refuses: a problem+json answer, as every other
  // refusal, instead of node's bare "400 Bad Request". A head past the size
  // limit keeps node's 431, a head that never completed its 408.
  server.on(
    "clientError",
    (err: Error & { code?: string }, socket: net.Socket) => {
      if (!socket.writable || socket.bytesWritten > 0) {
        socket.destroy();
        return;
      }
      if (err.code === "HPE_HEADER_OVERFLOW") {
        socket.end(
          "HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n",
        );
        return;
      }
      if (err.code === "ERR_HTTP_REQUEST_TIMEOUT") {
        socket.end("HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n");
        return;
      }
      refuseOnSocket(
        socket,
        new ProblemError("generic-bad-request", {
          msg: "Malformed HTTP/1.1 request.",
        }),
      );
    },
  );

  server.on("connection", (socket: net.Socket) => {
    arm(socket, headersTimeoutMs);
    socket.once("close", () => disarm(socket));
  });

  // Connections arrive at the fast path (fast_http.ts); those it does not
  // serve go on to `server` above, which never listens itself.
  const open = new Set<net.Socket>();
  const listener = net.createServer((socket: net.Socket) => {
    open.add(socket);
    socket.once("close", () => open.delete(socket));
    socket.setNoDelay(true);
    arm(socket, headersTimeoutMs);
    socket.once("close", () => disarm(socket));
    serveFast(socket, {
      app,
      fallback: server,
      hostname,
      maxBodyBytes: FAST_BODY_BYTES,
      maxHeadBytes: FAST_HEAD_BYTES,
      onHead: disarm,
      onIdle: (s) => arm(s, idleTimeoutMs),
      onUpgrade(socket, head, rest) {
        const refused = upgradeProblem(head);
        if (refused) return refuseOnSocket(socket, refused);
        upgradeOnSocket(
          app,
          {
            method: head.method,
            url: head.url,
            rawHeaders: head.rawHeaders,
            headers: { host: head.host },
          },
          socket,
          rest,
          hostname,
        ).catch(() => socket.destroy());
      },
    });
  });
  listener.maxConnections = options.maxConnections ?? defaultMaxConnections();

  await new Promise<void>((resolve, reject) => {
    listener.once("error", reject);
    listener.listen(options.port ?? 0, hostname, () => resolve());
  });
  const port = (listener.address() as net.AddressInfo).port;
  options.onListen?.({ hostname, port });

  return {
    hostname,
    port,
    async shutdown() {
      const closed = new Promise<void>((r) => listener.close(() => r()));
      server.closeAllConnections();
      for (const socket of open) socket.destroy();
      await closed;
    },
  };
}
