/**
 * HTTP/1.1 over a byte stream (a kernel channel to an app), the client
 * half the app proxy needs (RFC 9112): a request head written with the
 * hop-by-hop headers dropped, a response head parsed, and the response
 * body read by its framing (Content-Length, chunked, or until close) as a
 * stream that pulls from the channel only as fast as it is read, so the
 * kernel is credited only for what the browser took.
 *
 * @module
 */

import { indexOfBytes } from "../../actors/protocol/bytes.ts";

/** The bytes a {@link StreamReader} reads from (a ChannelStream). */
export interface ByteSource {
  read(): Promise<Uint8Array | null>;
}

/** The upstream spoke something that is not HTTP/1.x, or stopped mid-message. */
export class UpstreamError extends Error {
  override name = "UpstreamError";
}

const enc = new TextEncoder();
const latin1 = new TextDecoder("latin1");

/** A buffered reader over a {@link ByteSource}. */
export class StreamReader {
  #buf: Uint8Array = new Uint8Array(0);
  #at = 0;
  #ended = false;
  /** Bytes read from the source so far (0: the peer sent nothing yet). */
  received = 0;

  constructor(readonly src: ByteSource) {}

  /** Bytes buffered and not yet taken. */
  get buffered(): number {
    return this.#buf.byteLength - this.#at;
  }

  async #fill(): Promise<boolean> {
    if (this.#ended) return false;
    const chunk = await this.src.read();
    if (chunk === null) {
      this.#ended = true;
      return false;
    }
    this.received += chunk.byteLength;
    const rest = this.#buf.subarray(this.#at);
    if (rest.byteLength === 0) this.#buf = chunk;
    else {
      const b = new Uint8Array(rest.byteLength + chunk.byteLength);
      b.set(rest);
      b.set(chunk, rest.byteLength);
      this.#buf = b;
    }
    this.#at = 0;
    return true;
  }

  /** Text up to and without `delim` (CRLF or CRLFCRLF); null at a clean end. */
  async readUntil(delim: string, max: number): Promise<string | null> {
    const d = enc.encode(delim);
    let from = 0;
    for (;;) {
      const hay = this.#buf.subarray(this.#at);
      const i = indexOfBytes(hay, d, from);
      if (i >= 0) {
        const text = latin1.decode(hay.subarray(0, i));
        this.#at += i + d.byteLength;
        return text;
      }
      if (hay.byteLength > max) {
        throw new UpstreamError(`a line or head longer than ${max} bytes`);
      }
      from = Math.max(0, hay.byteLength - d.byteLength + 1);
      if (!await this.#fill()) {
        if (this.buffered === 0) return null;
        throw new UpstreamError("the app closed mid-message");
      }
    }
  }

  /** Up to `max` bytes (at least one); null at the end. */
  async readSome(max: number): Promise<Uint8Array | null> {
    if (this.buffered === 0 && !await this.#fill()) return null;
    const n = Math.min(max, this.buffered);
    const out = this.#buf.subarray(this.#at, this.#at + n);
    this.#at += n;
    return out;
  }
}

/** Headers that describe one hop, never forwarded (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/** `headers` less the hop-by-hop ones (and those `Connection` names). */
export function endToEnd(headers: Headers): [string, string][] {
  const named = new Set(
    (headers.get("connection") ?? "").split(",").map((s) =>
      s.trim().toLowerCase()
    ).filter(Boolean),
  );
  const out: [string, string][] = [];
  headers.forEach((value, name) => {
    if (HOP_BY_HOP.has(name) || named.has(name)) return;
    if (name === "set-cookie") return; // below, one line each
    out.push([name, value]);
  });
  for (const c of headers.getSetCookie()) out.push(["set-cookie", c]);
  return out;
}

/** The head of a request to write upstream (`target` is origin-form). */
export function requestHead(
  method: string,
  target: string,
  headers: [string, string][],
): Uint8Array {
  if (!/^[A-Z]+$/.test(method) || /[\s]/.test(target)) {
    throw new UpstreamError("bad request line");
  }
  let head = `${method} ${target} HTTP/1.1\r\n`;
  for (const [k, v] of headers) {
    if (/[\r\n]/.test(k) || /[\r\n]/.test(v)) continue;
    head += `${k}: ${v}\r\n`;
  }
  return enc.encode(head + "\r\n");
}

/** A parsed response head. */
export interface ResponseHead {
  status: number;
  statusText: string;
  minor: number;
  headers: Headers;
}

/** Parses a response head (without its final blank line). */
export function parseResponseHead(text: string): ResponseHead {
  const lines = text.split("\r\n");
  const m = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/.exec(lines[0]);
  if (!m) throw new UpstreamError("not an HTTP/1.x response");
  const headers = new Headers();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon <= 0) throw new UpstreamError("a malformed header line");
    try {
      headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
    } catch {
      // A value Headers refuses is dropped, as the gateway does.
    }
  }
  return {
    status: Number(m[2]),
    statusText: m[3] ?? "",
    minor: Number(m[1]),
    headers,
  };
}

/** Reads one response head (skipping 100 Continue); null if the app closed before any byte. */
export async function readResponseHead(
  reader: StreamReader,
): Promise<ResponseHead | null> {
  for (;;) {
    const text = await reader.readUntil("\r\n\r\n", 64 << 10);
    if (text === null) return null;
    const head = parseResponseHead(text);
    // Interim answers, except the 101 an upgrade waits for.
    if (head.status >= 100 && head.status < 200 && head.status !== 101) {
      continue;
    }
    return head;
  }
}

/** How a response body is delimited. */
export type Framing =
  | { kind: "none" }
  | { kind: "length"; bytes: number }
  | { kind: "chunked" }
  | { kind: "close" };

/** The body framing of a response to `method` (RFC 9112 §6.3). */
export function framingOf(head: ResponseHead, method: string): Framing {
  const s = head.status;
  if (method === "HEAD" || s === 204 || s === 304 || (s >= 100 && s < 200)) {
    return { kind: "none" };
  }
  const te = head.headers.get("transfer-encoding");
  if (te) {
    if (te.toLowerCase().split(",").map((x) => x.trim()).at(-1) === "chunked") {
      return { kind: "chunked" };
    }
    return { kind: "close" };
  }
  const cl = head.headers.get("content-length");
  if (cl !== null) {
    const n = Number(cl.split(",")[0].trim());
    if (!Number.isSafeInteger(n) || n < 0) {
      throw new UpstreamError("a bad Content-Length");
    }
    return n === 0 ? { kind: "none" } : { kind: "length", bytes: n };
  }
  return { kind: "close" };
}

/** Whether the connection may carry another request after this response. */
export function reusable(head: ResponseHead, framing: Framing): boolean {
  if (framing.kind === "close") return false;
  const conn = (head.headers.get("connection") ?? "").toLowerCase();
  if (conn.includes("close")) return false;
  return head.minor === 1 || conn.includes("keep-alive");
}

/**
 * The body as a stream read on demand. `done(clean)` is called once: clean
 * when the body ended as framed (the connection may be reused), not clean
 * when it was cancelled or broken.
 */
export function bodyStream(
  reader: StreamReader,
  framing: Framing,
  done: (clean: boolean) => void,
): ReadableStream<Uint8Array> {
  let left = framing.kind === "length" ? framing.bytes : 0;
  let chunkLeft = 0;
  let finished = false;
  const finish = (clean: boolean) => {
    if (finished) return;
    finished = true;
    done(clean);
  };
  const next = async (): Promise<Uint8Array | null> => {
    switch (framing.kind) {
      case "none":
        return null;
      case "close":
        return await reader.readSome(64 << 10);
      case "length": {
        if (left === 0) return null;
        const b = await reader.readSome(Math.min(left, 64 << 10));
        if (!b) throw new UpstreamError("the app closed mid-body");
        left -= b.byteLength;
        return b;
      }
      case "chunked": {
        if (chunkLeft === 0) {
          const line = await reader.readUntil("\r\n", 4096);
          if (line === null) throw new UpstreamError("the app closed mid-body");
          const size = parseInt(line.split(";")[0].trim(), 16);
          if (!Number.isSafeInteger(size) || size < 0) {
            throw new UpstreamError("a bad chunk size");
          }
          if (size === 0) {
            // Trailers, then the blank line.
            while ((await reader.readUntil("\r\n", 8192)) !== "") {
              // A trailer line: not forwarded.
            }
            return null;
          }
          chunkLeft = size;
        }
        const b = await reader.readSome(Math.min(chunkLeft, 64 << 10));
        if (!b) throw new UpstreamError("the app closed mid-body");
        chunkLeft -= b.byteLength;
        if (chunkLeft === 0 && await reader.readUntil("\r\n", 2) !== "") {
          throw new UpstreamError("a chunk without its CRLF");
        }
        return b;
      }
    }
  };
  return new ReadableStream<Uint8Array>({
    async pull(ctl) {
      try {
        const b = await next();
        if (b === null) {
          finish(framing.kind !== "close");
          ctl.close();
        } else ctl.enqueue(b.slice());
      } catch (err) {
        finish(false);
        ctl.error(err);
      }
    },
    cancel() {
      finish(false);
    },
  }, { highWaterMark: 0 });
}

/** One chunk of a chunked request body (an empty one ends the body). */
export function chunk(bytes: Uint8Array): Uint8Array {
  const head = enc.encode(`${bytes.byteLength.toString(16)}\r\n`);
  const out = new Uint8Array(head.byteLength + bytes.byteLength + 2);
  out.set(head);
  out.set(bytes, head.byteLength);
  out.set([13, 10], head.byteLength + bytes.byteLength);
  return bytes.byteLength === 0 ? enc.encode("0\r\n\r\n") : out;
}
