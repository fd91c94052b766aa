/**
 * The gateway's fast path for plain HTTP/1.1 requests (serve.ts), in front
 * of `node:http`: a connection is read here, and a request whose head is
 * simple (a known method, an origin-form target, HTTP/1.1, a Host, at most
 * one Content-Length of a small body, no Transfer-Encoding, Expect or
 * Upgrade, nothing odd in any header) goes straight to the app and its
 * response straight to the socket. Anything else hands the connection,
 * bytes read so far included, to the `node:http` server, which then serves
 * it to the end exactly as before, every odd case and its errors included.
 *
 * Why: `node:http` (Node's own HTTP code over Deno's socket layer) cost the
 * gateway ~70-100 µs of CPU a request here against ~35 µs for `Deno.serve`,
 * which cannot be used because it drops the GET bodies the Python SDK
 * sends. This path parses a head with a few string operations and writes
 * each response with one socket write: ~45-55 µs a request in the same
 * measurement, GET bodies kept.
 *
 * @module
 */
import http from "node:http";
import type net from "node:net";
import { Buffer } from "node:buffer";
import { preloadBody } from "./override.ts";
import { rememberPeer } from "./peer.ts";
import { ProblemError, problemResponse } from "./problems.ts";

/** What {@link serveFast} needs from serve.ts. */
export interface FastPathOptions {
  app: { fetch(req: Request): Response | Promise<Response> };
  /** Takes over connections this path does not serve (`emit("connection")`). */
  fallback: http.Server;
  /** Host for a target when the request names none (never: such requests go to the fallback). */
  hostname: string;
  /** Largest body (bytes) served here; longer ones stream through the fallback. */
  maxBodyBytes: number;
  /** A head must be complete within this many bytes, or the fallback judges it. */
  maxHeadBytes: number;
  /** Called when a request head is complete (the headers deadline stops). */
  onHead(socket: net.Socket): void;
  /** Called when a response is out (the next request's deadline starts). */
  onIdle(socket: net.Socket): void;
  /**
   * Takes a WebSocket upgrade whose head is otherwise simple (the socket is
   * the callee's from then on): the stream route's handshake skips
   * node:http. Without it upgrades go to the fallback.
   */
  onUpgrade?(socket: net.Socket, head: UpgradeHead, rest: Uint8Array): void;
}

/** A simple head asking for a WebSocket, as {@link FastPathOptions.onUpgrade} gets it. */
export interface UpgradeHead {
  method: string;
  url: string;
  host: string;
  /** Names and values in arrival order, as node's `rawHeaders`. */
  rawHeaders: string[];
  /** Lower-cased name → value (the last of a name). */
  get(name: string): string | null;
}

const METHODS = new Set([
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "PATCH",
  "DELETE",
  "OPTIONS",
]);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Control bytes other than HTAB (CR and LF only as line ends, checked apart). */
// deno-lint-ignore no-control-regex -- matching control bytes is the point
const CTL = /[\x00-\x08\x0a-\x1f\x7f]/;
const TARGET = /^\/[\x21-\x7e]*$/;
const DIGITS = /^\d{1,10}$/;
const CRLF2 = Buffer.from("\r\n\r\n");

/** A request head this path serves. */
interface Head {
  method: string;
  target: string;
  host: string;
  pairs: [string, string][];
  length: number;
  close: boolean;
  /** `Upgrade: websocket` with `Connection: upgrade` (and no body). */
  websocket: boolean;
}

/** Parses a head (latin1, without the blank line); undefined: not simple. */
export function parseSimpleHead(text: string): Head | undefined {
  const lines = text.split("\r\n");
  const first = lines[0].split(" ");
  if (first.length !== 3 || first[2] !== "HTTP/1.1") return undefined;
  const [method, target] = first;
  if (!METHODS.has(method) || !TARGET.test(target)) return undefined;
  const pairs: [string, string][] = [];
  let host: string | undefined;
  let length = 0;
  let lengths = 0;
  let close = false;
  let upgrade: string | undefined;
  let connUpgrade = false;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(":");
    if (colon <= 0) return undefined; // also obs-fold (leading space) and bare CR/LF
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) return undefined;
    const value = line.slice(colon + 1).trim();
    if (CTL.test(value)) return undefined;
    switch (name.toLowerCase()) {
      case "host":
        if (host !== undefined) return undefined;
        host = value;
        break;
      case "content-length":
        if (!DIGITS.test(value) || ++lengths > 1) return undefined;
        length = Number(value);
        break;
      case "transfer-encoding":
      case "expect":
        return undefined;
      case "upgrade":
        if (upgrade !== undefined) return undefined;
        upgrade = value;
        break;
      case "connection":
        if (/(^|,)\s*close\s*(,|$)/i.test(value)) close = true;
        if (/(^|,)\s*upgrade\s*(,|$)/i.test(value)) connUpgrade = true;
        break;
    }
    pairs.push([name, value]);
  }
  if (!host || CTL.test(host) || /[\s/?#@]/.test(host)) return undefined;
  // Any upgrade but a WebSocket one (or a half-said one) is node's to judge.
  const websocket = upgrade !== undefined;
  if (
    websocket &&
    (upgrade!.toLowerCase() !== "websocket" || !connUpgrade || length > 0 ||
      method !== "GET")
  ) return undefined;
  if (!websocket && connUpgrade) return undefined;
  return { method, target, host, pairs, length, close, websocket };
}

/**
 * Serves `socket` (a fresh connection) through the fast path until a
 * request needs the fallback; then hands the connection over.
 */
export function serveFast(socket: net.Socket, o: FastPathOptions): void {
  let buf: Buffer = Buffer.alloc(0);
  let busy = false;
  let gone = false;
  const onData = (chunk: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    if (!busy) void next();
  };
  const onClose = () => {
    gone = true;
  };
  socket.on("data", onData);
  socket.on("close", onClose);
  socket.on("error", () => socket.destroy());

  const handOver = () => {
    socket.removeListener("data", onData);
    socket.removeListener("close", onClose);
    socket.pause();
    const read = buf;
    buf = Buffer.alloc(0);
    o.fallback.emit("connection", socket);
    // The bytes read so far go to node's parser now, before any that
    // arrive later: put back with unshift they were now and then parsed
    // after the next chunk (a 400 for one streamed upload in a hundred).
    if (read.length) socket.emit("data", read);
    socket.resume();
  };

  const next = async (): Promise<void> => {
    busy = true;
    try {
      while (!gone) {
        const end = buf.indexOf(CRLF2);
        if (end < 0) {
          if (buf.length > o.maxHeadBytes) return handOver();
          return;
        }
        if (end > o.maxHeadBytes) return handOver();
        const head = parseSimpleHead(buf.toString("latin1", 0, end));
        if (!head || head.length > o.maxBodyBytes) return handOver();
        const total = end + 4 + head.length;
        if (head.websocket) {
          if (!o.onUpgrade) return handOver();
          const rest = new Uint8Array(buf.subarray(end + 4));
          socket.removeListener("data", onData);
          socket.removeListener("close", onClose);
          buf = Buffer.alloc(0);
          o.onHead(socket);
          o.onUpgrade(socket, upgradeHead(head), rest);
          return;
        }
        if (buf.length < total) return; // the rest of the body is on its way
        const body = head.length > 0 ? buf.subarray(end + 4, total) : undefined;
        // A request the platform refuses to build (a Host no URL takes) is
        // the fallback's to answer, as before this path existed.
        const request = buildRequest(head, body, socket);
        if (!request) return handOver();
        buf = buf.subarray(total);
        o.onHead(socket);
        await serveOne(socket, request, head, o);
        if (head.close || gone) {
          gone = true;
          socket.end();
          return;
        }
        o.onIdle(socket);
      }
    } catch {
      socket.destroy();
    } finally {
      busy = false;
    }
  };
}

function upgradeHead(head: Head): UpgradeHead {
  const byName = new Map<string, string>();
  for (const [k, v] of head.pairs) byName.set(k.toLowerCase(), v);
  return {
    method: head.method,
    url: head.target,
    host: head.host,
    rawHeaders: head.pairs.flat(),
    get: (name) => byName.get(name) ?? null,
  };
}

/** The app's Request for a simple head, or undefined when one cannot be made. */
function buildRequest(
  head: Head,
  body: Buffer | undefined,
  socket: net.Socket,
): Request | undefined {
  const method = head.method;
  const bytes = body ? new Uint8Array(body) : undefined;
  const bodyless = method === "GET" || method === "HEAD";
  let request: Request;
  try {
    request = new Request(`http://${head.host}${head.target}`, {
      method,
      headers: head.pairs,
      body: bodyless ? undefined : bytes,
    });
  } catch {
    return undefined;
  }
  // GET bodies (the Python SDK's download / list_files) as serve.ts keeps
  // them; other bodies too, so body.ts takes the bytes as they are instead
  // of reading them back through the Request's stream (~3 µs a request,
  // docs/exec_profile.md). The Request keeps its own body for routes that
  // read it (app_proxy/ relays it).
  if (bytes && bytes.byteLength > 0) preloadBody(request, bytes);
  rememberPeer(request, socket.remoteAddress);
  return request;
}

async function serveOne(
  socket: net.Socket,
  request: Request,
  head: Head,
  o: FastPathOptions,
): Promise<void> {
  let response: Response;
  try {
    response = await o.app.fetch(request);
  } catch (err) {
    console.error("gateway: listener failure", err);
    response = problemResponse(new ProblemError("internal-server-error"));
  }
  await writeResponse(socket, response, head.method === "HEAD", head.close);
}

let dateSecond = 0;
let dateText = "";

/** The Date header value, computed once a second. */
function httpDate(): string {
  const now = Date.now();
  const s = Math.floor(now / 1000);
  if (s !== dateSecond) {
    dateSecond = s;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}

function headLines(res: Response, close: boolean): string {
  let out = `HTTP/1.1 ${res.status} ${http.STATUS_CODES[res.status] ?? ""}\r\n`;
  res.headers.forEach((v, k) => {
    if (k === "set-cookie" || k === "content-length" || k === "connection") {
      return;
    }
    out += `${k}: ${v}\r\n`;
  });
  // forEach yields the Set-Cookie values joined; each goes on its own line.
  for (const c of res.headers.getSetCookie()) out += `set-cookie: ${c}\r\n`;
  out += `date: ${httpDate()}\r\n`;
  out += close ? "connection: close\r\n" : "connection: keep-alive\r\n";
  return out;
}

/** Writes `res` on the socket: sized when it is known or short, else chunked. */
async function writeResponse(
  socket: net.Socket,
  res: Response,
  isHead: boolean,
  close: boolean,
): Promise<void> {
  const head = headLines(res, close);
  const type = res.headers.get("content-type") ?? "";
  if (
    !res.body || type.startsWith("application/json") ||
    type.startsWith("application/problem+json")
  ) {
    const body = res.body
      ? new Uint8Array(await res.arrayBuffer())
      : new Uint8Array();
    const all = `${head}content-length: ${body.byteLength}\r\n\r\n`;
    // Head and body in one buffer, one write.
    const n = Buffer.byteLength(all, "latin1");
    const out = Buffer.allocUnsafe(n + (isHead ? 0 : body.byteLength));
    out.write(all, 0, n, "latin1");
    if (!isHead) out.set(body, n);
    socket.write(out);
    return;
  }
  const reader = res.body.getReader();
  const cancel = () => reader.cancel().catch(() => {});
  socket.once("close", cancel);
  try {
    if (type.startsWith("text/event-stream")) {
      // Events may be far apart: the head goes at once.
      socket.write(`${head}transfer-encoding: chunked\r\n\r\n`, "latin1");
    } else {
      const first = await reader.read();
      const second = first.done ? first : await reader.read();
      if (second.done) {
        const bytes = first.done ? new Uint8Array() : first.value;
        const h = Buffer.from(
          `${head}content-length: ${bytes.byteLength}\r\n\r\n`,
          "latin1",
        );
        socket.write(isHead ? h : Buffer.concat([h, bytes]));
        return;
      }
      socket.write(`${head}transfer-encoding: chunked\r\n\r\n`, "latin1");
      if (!isHead) {
        await chunk(socket, first.value!);
        await chunk(socket, second.value);
      }
    }
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!isHead) await chunk(socket, value);
    }
    socket.write("0\r\n\r\n");
  } catch {
    // Cancelled or failed mid-stream: the client cannot be told; close.
    socket.destroy();
  } finally {
    socket.removeListener("close", cancel);
  }
}

/** One chunk of a chunked body, waiting for the socket to drain when full. */
async function chunk(socket: net.Socket, data: Uint8Array): Promise<void> {
  if (data.byteLength === 0) return;
  const ok = socket.write(
    Buffer.concat([
      Buffer.from(`${data.byteLength.toString(16)}\r\n`, "latin1"),
      data,
      Buffer.from("\r\n"),
    ]),
  );
  if (!ok && !socket.destroyed) {
    await new Promise<void>((r) => {
      socket.once("drain", r);
      socket.once("close", r);
    });
  }
}
