/**
 * The server side of RFC 6455 on a raw TCP connection, for tunnels
 * (`/stream/session/{ref}/tcpproxy`): binary frames in and out, ping
 * answered, close passed on. Why not Deno's WebSocket: it reads the
 * client as fast as the client sends, and a tunnel's far end (a kernel
 * app) may be slower, so an upload would pile up in the manager. Here the
 * connection stops being read while more than a MiB waits for the
 * kernel's credit, and TCP itself makes the client wait; output waits for
 * the socket to drain before the next chunk is taken from the channel.
 *
 * @module
 */
import type net from "node:net";
import type { ChannelStream } from "../actors/manager/port/mod.ts";
import { acceptOf } from "./app_proxy/websocket.ts";

/** Input waiting for the kernel before the client is no longer read. */
const HIGH_WATER = 1 << 20;
const LOW_WATER = 256 << 10;
/** Largest frame accepted from a client (the Python CLI sends 8 KiB ones). */
const MAX_FRAME = 16 << 20;

/** A server frame (unmasked). */
export function serverFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const n = payload.byteLength;
  const ext = n < 126 ? 0 : n < 65536 ? 2 : 8;
  const out = new Uint8Array(2 + ext + n);
  out[0] = 0x80 | opcode;
  out[1] = ext === 0 ? n : ext === 2 ? 126 : 127;
  const view = new DataView(out.buffer);
  if (ext === 2) view.setUint16(2, n);
  if (ext === 8) view.setBigUint64(2, BigInt(n));
  out.set(payload, 2 + ext);
  return out;
}

/** A complete client frame at the start of `buf`, or undefined when more bytes are needed. */
export function parseClientFrame(
  buf: Uint8Array,
):
  | { opcode: number; payload: Uint8Array; size: number }
  | "unmasked"
  | "too-large"
  | undefined {
  if (buf.byteLength < 2) return undefined;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let len = buf[1] & 0x7f;
  let at = 2;
  if (len === 126) {
    if (buf.byteLength < 4) return undefined;
    len = view.getUint16(2);
    at = 4;
  } else if (len === 127) {
    if (buf.byteLength < 10) return undefined;
    const big = view.getBigUint64(2);
    if (big > BigInt(MAX_FRAME)) return "too-large";
    len = Number(big);
    at = 10;
  }
  if (len > MAX_FRAME) return "too-large";
  if (!(buf[1] & 0x80)) return "unmasked"; // RFC 6455 §5.1: clients mask
  if (buf.byteLength < at + 4 + len) return undefined;
  const mask = buf.subarray(at, at + 4);
  const payload = buf.slice(at + 4, at + 4 + len);
  for (let i = 0; i < len; i++) payload[i] ^= mask[i & 3];
  return { opcode: buf[0] & 0x0f, payload, size: at + 4 + len };
}

/**
 * Answers the upgrade on `socket` (`key`: the client's Sec-WebSocket-Key;
 * `head`: bytes that came after the request head) and relays `ch` until
 * either side ends.
 */
export function serveTunnelSocket(
  socket: net.Socket,
  head: Uint8Array,
  key: string,
  ch: ChannelStream,
): void {
  socket.setNoDelay(true);
  socket.write(
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n" +
      `Connection: Upgrade\r\nSec-WebSocket-Accept: ${acceptOf(key)}\r\n\r\n`,
  );
  let buf: Uint8Array = head;
  let waiting = 0;
  let paused = false;
  let done = false;

  const finish = (code: number, reason: string) => {
    if (done) return;
    done = true;
    ch.close();
    const r = new TextEncoder().encode(reason).subarray(0, 120);
    const p = new Uint8Array(2 + r.byteLength);
    new DataView(p.buffer).setUint16(0, code);
    p.set(r, 2);
    if (!socket.destroyed) socket.end(serverFrame(0x8, p));
  };

  const input = (payload: Uint8Array) => {
    if (payload.byteLength === 0) return;
    const n = payload.byteLength;
    waiting += n;
    ch.write(payload).then(() => {
      waiting -= n;
      if (paused && waiting < LOW_WATER) {
        paused = false;
        socket.resume();
      }
    }, () => {/* closed: the pump ends the socket */});
    if (!paused && waiting > HIGH_WATER) {
      paused = true;
      socket.pause();
    }
  };

  const parse = () => {
    while (!done) {
      const f = parseClientFrame(buf);
      if (f === undefined) return;
      if (f === "unmasked") return finish(1002, "client frames must be masked");
      if (f === "too-large") return finish(1009, "frame too large");
      buf = buf.subarray(f.size);
      switch (f.opcode) {
        case 0x0: // continuation: a tunnel has no message boundaries
        case 0x1:
        case 0x2:
          input(f.payload);
          break;
        case 0x8:
          return finish(1000, "closed by the client");
        case 0x9:
          socket.write(serverFrame(0xa, f.payload));
          break;
        case 0xa:
          break;
        default:
          return finish(1002, "unknown opcode");
      }
    }
  };

  socket.on("data", (d: Uint8Array) => {
    if (done) return;
    if (buf.byteLength === 0) buf = d;
    else {
      const b = new Uint8Array(buf.byteLength + d.byteLength);
      b.set(buf);
      b.set(d, buf.byteLength);
      buf = b;
    }
    parse();
  });
  const gone = () => {
    done = true;
    ch.close(); // what was sent still goes in first
  };
  socket.on("end", gone);
  socket.on("close", gone);
  socket.on("error", () => socket.destroy());
  if (buf.byteLength) parse();

  void (async () => {
    for (;;) {
      const chunk = await ch.read();
      if (chunk === null || done || socket.destroyed) break;
      if (!socket.write(serverFrame(0x2, chunk))) {
        await new Promise<void>((r) => {
          const go = () => {
            socket.off("drain", go);
            socket.off("close", go);
            r();
          };
          socket.on("drain", go);
          socket.on("close", go);
        });
      }
    }
    // The app closed its side: a WebSocket has no half-close, so the tunnel ends.
    finish(1000, "the app closed the connection");
  })();
}
