/**
 * A minimal RFC 6455 WebSocket client over `Deno.connect` with TCP_NODELAY.
 *
 * Why: Deno's built-in `WebSocket` client leaves Nagle's algorithm on. A
 * node that sends two small frames in two event-loop turns (a run's output,
 * then its result) has the second one held until the first is acknowledged,
 * and the peer delays that acknowledgement by ~40 ms: measured here, 44 ms
 * p50 for such a pair against 2.8 ms in the other direction (the server side
 * of `Deno.upgradeWebSocket` sets no-delay). Dialing nodes (agents) use this
 * class for `ws://` URLs; `wss://` keeps the built-in client.
 *
 * It implements the part of the `WebSocket` interface the cluster uses:
 * `send`, `close`, `readyState`, `bufferedAmount`, the `on*` handlers and
 * `addEventListener` for open, message, close and error. Messages arrive as
 * strings (text) or `Uint8Array` (binary); ping is answered with pong.
 *
 * @example
 * ```ts ignore
 * const ws = new TcpWebSocket("ws://127.0.0.1:8081/x/cluster");
 * ws.onmessage = (e) => console.log(e.data);
 * ws.addEventListener("open", () => ws.send("hello"));
 * ```
 *
 * @module
 */

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const enc = new TextEncoder();
const dec = new TextDecoder();

/** Options of {@link TcpWebSocket}. */
export interface TcpWebSocketOptions {
  /** A received message larger than this closes the socket with 1009. @default {67108864} */
  maxMessageBytes?: number;
}

/** A `WebSocket` look-alike on a raw TCP connection with no-delay set. */
export class TcpWebSocket extends EventTarget {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;

  readyState = 0;
  onopen: ((ev: Event) => unknown) | null = null;
  onmessage: ((ev: MessageEvent) => unknown) | null = null;
  onclose: ((ev: CloseEvent) => unknown) | null = null;
  onerror: ((ev: Event) => unknown) | null = null;

  #conn: Deno.TcpConn | undefined;
  #out: Uint8Array[] = [];
  #buffered = 0;
  #writing = false;
  #closeSent = false;
  #closeEvent: { code: number; reason: string } | undefined;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #maxMessage: number;
  /** `message` listeners ever added (never decremented: only a fast-path hint). */
  #messageListeners = 0;

  constructor(readonly url: string, options: TcpWebSocketOptions = {}) {
    super();
    this.#maxMessage = options.maxMessageBytes ?? 64 * 1024 * 1024;
    this.#run().catch(() => this.#finish(1006, ""));
  }

  /** Bytes handed to `send` and not yet written to the socket. */
  get bufferedAmount(): number {
    return this.#buffered;
  }

  /** Queue a text (string) or binary message. Throws before the socket opens. */
  send(data: string | Uint8Array): void {
    if (this.readyState === 0) {
      throw new DOMException("not open", "InvalidStateError");
    }
    if (this.readyState !== 1) return; // like WebSocket: dropped once closing
    if (typeof data === "string") this.#queue(1, enc.encode(data));
    else this.#queue(2, data);
  }

  /** Start the closing handshake; the close event follows. */
  close(code = 1000, reason = ""): void {
    if (this.readyState >= 2) return;
    if (this.readyState === 0) {
      this.#finish(1006, "closed before open");
      return;
    }
    this.readyState = 2;
    this.#sendClose(code, reason);
    // Do not wait forever for the peer's close frame.
    this.#closeTimer = setTimeout(() => this.#finish(code, reason), 2_000);
  }

  async #run(): Promise<void> {
    const u = new URL(this.url);
    if (u.protocol !== "ws:") {
      throw new Error(`unsupported scheme ${u.protocol}`);
    }
    const hostname = u.hostname.replace(/^\[|\]$/g, "");
    const port = Number(u.port || 80);
    const conn = await Deno.connect({ hostname, port });
    if (this.readyState !== 0) {
      conn.close();
      return;
    }
    conn.setNoDelay(true);
    this.#conn = conn;
    const key = btoa(
      String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))),
    );
    await writeAll(
      conn,
      enc.encode(
        `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\n` +
          `Upgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ),
    );
    const reader = new ByteReader(conn);
    const head = await reader.readHead();
    if (!/^HTTP\/1\.1 101/.test(head)) {
      throw new Error(`upgrade refused: ${head.split("\r\n")[0]}`);
    }
    const accept = /\r\nsec-websocket-accept:\s*(\S+)/i.exec(head)?.[1];
    const want = btoa(String.fromCharCode(
      ...new Uint8Array(
        await crypto.subtle.digest("SHA-1", enc.encode(key + GUID)),
      ),
    ));
    if (accept !== want) throw new Error("bad Sec-WebSocket-Accept");
    if (this.readyState !== 0) return this.#finish(1006, "closed before open");
    this.readyState = 1;
    this.#emit("open", new Event("open"));
    this.#pump();
    await this.#readFrames(reader);
  }

  async #readFrames(reader: ByteReader): Promise<void> {
    let parts: Uint8Array[] = [];
    let partsBytes = 0;
    let partsOp = 0;
    while (true) {
      const h = await reader.read(2);
      if (!h) {
        return this.#finish(
          this.#closeEvent?.code ?? 1006,
          this.#closeEvent?.reason ?? "",
        );
      }
      const fin = (h[0] & 0x80) !== 0;
      const op = h[0] & 0x0f;
      let len = h[1] & 0x7f;
      if (h[1] & 0x80) throw new Error("server frames must not be masked");
      if (len === 126) {
        const b = await reader.read(2);
        if (!b) return this.#finish(1006, "");
        len = (b[0] << 8) | b[1];
      } else if (len === 127) {
        const b = await reader.read(8);
        if (!b) return this.#finish(1006, "");
        const big = new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0);
        if (big > BigInt(this.#maxMessage)) return this.#tooBig();
        len = Number(big);
      }
      if (partsBytes + len > this.#maxMessage) return this.#tooBig();
      const payload = len === 0 ? new Uint8Array(0) : await reader.read(len);
      if (!payload) return this.#finish(1006, "");
      if (op === 0x8) {
        const code = payload.length >= 2
          ? (payload[0] << 8) | payload[1]
          : 1005;
        const reason = payload.length > 2
          ? dec.decode(payload.subarray(2))
          : "";
        this.#closeEvent = { code, reason };
        if (!this.#closeSent) this.#sendClose(code === 1005 ? 1000 : code, "");
        this.readyState = 2;
        continue; // the server closes the TCP connection next
      }
      if (op === 0x9) {
        this.#queue(0xa, payload);
        continue;
      }
      if (op === 0xa) continue;
      if (op !== 0) {
        parts = [];
        partsBytes = 0;
        partsOp = op;
      }
      parts.push(payload);
      partsBytes += payload.length;
      if (!fin) continue;
      const whole = parts.length === 1 ? parts[0] : concat(parts, partsBytes);
      parts = [];
      partsBytes = 0;
      if (this.readyState !== 1) continue;
      const data = partsOp === 1 ? dec.decode(whole) : whole;
      if (this.#messageListeners === 0) {
        // The cluster only sets `onmessage`: skip building an event for listeners that do not exist.
        this.#callHandler("message", { data } as MessageEvent);
      } else this.#emit("message", new MessageEvent("message", { data }));
    }
  }

  #tooBig(): void {
    this.#sendClose(1009, "message too big");
    this.#finish(1009, "message too big");
  }

  #sendClose(code: number, reason: string): void {
    if (this.#closeSent) return;
    this.#closeSent = true;
    const r = enc.encode(reason).subarray(0, 123);
    const body = new Uint8Array(2 + r.length);
    body[0] = code >> 8;
    body[1] = code & 0xff;
    body.set(r, 2);
    this.#queue(0x8, body, true);
  }

  #queue(op: number, payload: Uint8Array, force = false): void {
    if (!this.#conn || (this.#closeSent && !force)) return;
    const frame = maskedFrame(op, payload);
    this.#out.push(frame);
    this.#buffered += frame.length;
    this.#pump();
  }

  /** One writer at a time; frames queued meanwhile leave in one write. */
  #pump(): void {
    if (this.#writing || !this.#conn || this.readyState === 0) return;
    if (this.#out.length === 0) return;
    this.#writing = true;
    const batch = this.#out.length === 1
      ? this.#out[0]
      : concat(this.#out, this.#buffered);
    this.#out = [];
    writeAll(this.#conn, batch).then(
      () => {
        this.#buffered -= batch.length;
        this.#writing = false;
        this.#pump();
      },
      () => {
        this.#writing = false;
        this.#finish(1006, "");
      },
    );
  }

  #finish(code: number, reason: string): void {
    if (this.readyState === 3) return;
    const wasOpen = this.readyState === 1 || this.readyState === 2;
    this.readyState = 3;
    clearTimeout(this.#closeTimer);
    try {
      this.#conn?.close();
    } catch { /* already closed */ }
    if (!wasOpen || code === 1006) this.#emit("error", new Event("error"));
    this.#emit(
      "close",
      new CloseEvent("close", { code, reason, wasClean: code !== 1006 }),
    );
  }

  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void {
    if (type === "message" && listener !== null) this.#messageListeners++;
    super.addEventListener(type, listener, options);
  }

  #emit(type: "open" | "message" | "close" | "error", ev: Event): void {
    this.#callHandler(type, ev);
    this.dispatchEvent(ev);
  }

  #callHandler(type: "open" | "message" | "close" | "error", ev: Event) {
    const handler = this[`on${type}`] as ((ev: Event) => unknown) | null;
    try {
      handler?.call(this, ev);
    } catch (err) {
      queueMicrotask(() => {
        throw err;
      });
    }
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function maskedFrame(op: number, payload: Uint8Array): Uint8Array {
  const n = payload.length;
  const headLen = n < 126 ? 2 : n < 65536 ? 4 : 10;
  // Lay the frame out so that its payload starts 4-byte aligned in the
  // buffer: then the mask is applied a word at a time (4× faster than
  // byte by byte, which was a tenth of a busy sender's time).
  const lead = (4 - ((headLen + 4) & 3)) & 3;
  const buf = new ArrayBuffer(lead + headLen + 4 + n);
  const frame = new Uint8Array(buf, lead);
  frame[0] = 0x80 | op;
  if (n < 126) frame[1] = 0x80 | n;
  else if (n < 65536) {
    frame[1] = 0x80 | 126;
    frame[2] = n >> 8;
    frame[3] = n & 0xff;
  } else {
    frame[1] = 0x80 | 127;
    new DataView(buf, lead).setBigUint64(2, BigInt(n));
  }
  // The mask only defeats proxy cache poisoning (RFC 6455 10.3); it need not
  // be secret, and crypto.getRandomValues per frame costs more than the XOR.
  const m = (Math.random() * 0x100000000) >>> 0;
  const mask = [m >>> 24, (m >>> 16) & 0xff, (m >>> 8) & 0xff, m & 0xff];
  frame.set(mask, headLen);
  const body = headLen + 4;
  frame.set(payload, body);
  const words = n >>> 2;
  if (words > 0) {
    const w = new Uint32Array(buf, lead + body, words);
    const word = LITTLE_ENDIAN
      ? (mask[0] | (mask[1] << 8) | (mask[2] << 16) | (mask[3] << 24)) >>> 0
      : m;
    for (let i = 0; i < words; i++) w[i] ^= word;
  }
  for (let i = words << 2; i < n; i++) frame[body + i] ^= mask[i & 3];
  return frame;
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}

/** Buffered reads of exact lengths from a connection. */
class ByteReader {
  #buf = new Uint8Array(0);
  #chunk = new Uint8Array(64 * 1024);
  constructor(readonly conn: Deno.Conn) {}

  async #fill(): Promise<boolean> {
    const n = await this.conn.read(this.#chunk);
    if (n === null) return false;
    const next = new Uint8Array(this.#buf.length + n);
    next.set(this.#buf);
    next.set(this.#chunk.subarray(0, n), this.#buf.length);
    this.#buf = next;
    return true;
  }

  /** Exactly `n` bytes, or undefined at end of stream. */
  async read(n: number): Promise<Uint8Array | undefined> {
    if (this.#buf.length >= n) {
      const out = this.#buf.slice(0, n);
      this.#buf = this.#buf.subarray(n);
      return out;
    }
    if (n <= this.#chunk.length) {
      while (this.#buf.length < n) if (!await this.#fill()) return undefined;
      return this.read(n);
    }
    // A large payload: read straight into its own buffer (no re-copying).
    const out = new Uint8Array(n);
    out.set(this.#buf);
    let off = this.#buf.length;
    this.#buf = new Uint8Array(0);
    while (off < n) {
      const got = await this.conn.read(out.subarray(off));
      if (got === null) return undefined;
      off += got;
    }
    return out;
  }

  /** The HTTP response head, up to and without the blank line. */
  async readHead(): Promise<string> {
    while (true) {
      const s = dec.decode(this.#buf);
      const end = s.indexOf("\r\n\r\n");
      if (end >= 0) {
        const head = s.slice(0, end);
        this.#buf = this.#buf.subarray(enc.encode(s.slice(0, end + 4)).length);
        return head;
      }
      if (this.#buf.length > 16384) throw new Error("response head too large");
      if (!await this.#fill()) throw new Error("closed during upgrade");
    }
  }
}
