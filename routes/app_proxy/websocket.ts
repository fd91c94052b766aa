/**
 * WebSocket upgrades through the app proxy (Jupyter's kernel channels):
 * the browser's socket ends here (`Deno.upgradeWebSocket`), and the proxy
 * speaks the client side of RFC 6455 to the app over a kernel channel of
 * its own: the handshake with a key of ours, masked frames up, frames
 * down decoded and re-sent to the browser message by message (text stays
 * text, binary stays binary), ping answered, close passed both ways.
 * Down the line, the next frame is read only once the browser's socket has
 * drained, so the kernel is held back to the browser's pace.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { ChannelStream } from "../../actors/manager/port/mod.ts";
import { type StreamReader, UpstreamError } from "./http1.ts";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/** Largest message relayed (a notebook output with images fits). */
export const MAX_MESSAGE_BYTES = 32 << 20;
/** The browser socket's backlog the relay lets build before it stops reading. */
const DRAIN_BYTES = 1 << 20;

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A fresh `Sec-WebSocket-Key` and the `Sec-WebSocket-Accept` it must get back. */
export function handshakeKey(): { key: string; accept: string } {
  const key = btoa(
    String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))),
  );
  return { key, accept: acceptOf(key) };
}

/** RFC 6455 §4.2.2: base64(SHA-1(key + GUID)). */
export function acceptOf(key: string): string {
  return createHash("sha1").update(key + GUID).digest("base64");
}

/** A client frame (masked, as RFC 6455 requires of clients). */
export function clientFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const n = payload.byteLength;
  const ext = n < 126 ? 0 : n < 65536 ? 2 : 8;
  const out = new Uint8Array(2 + ext + 4 + n);
  out[0] = 0x80 | opcode;
  out[1] = 0x80 | (ext === 0 ? n : ext === 2 ? 126 : 127);
  const view = new DataView(out.buffer);
  if (ext === 2) view.setUint16(2, n);
  if (ext === 8) view.setBigUint64(2, BigInt(n));
  const mask = crypto.getRandomValues(new Uint8Array(4));
  out.set(mask, 2 + ext);
  const at = 6 + ext;
  for (let i = 0; i < n; i++) out[at + i] = payload[i] ^ mask[i & 3];
  return out;
}

/** One frame read from the app. */
export interface Frame {
  fin: boolean;
  opcode: number;
  payload: Uint8Array;
}

async function exactly(reader: StreamReader, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const b = await reader.readSome(n - got);
    if (!b) throw new UpstreamError("the app closed mid-frame");
    out.set(b, got);
    got += b.byteLength;
  }
  return out;
}

/** Reads one frame; null when the app closed between frames. */
export async function readFrame(reader: StreamReader): Promise<Frame | null> {
  const first = await reader.readSome(1);
  if (!first) return null;
  const b0 = first[0];
  const b1 = (await exactly(reader, 1))[0];
  let len = b1 & 0x7f;
  if (len === 126) {
    len = new DataView((await exactly(reader, 2)).buffer).getUint16(0);
  } else if (len === 127) {
    const big = new DataView((await exactly(reader, 8)).buffer).getBigUint64(0);
    if (big > BigInt(MAX_MESSAGE_BYTES)) {
      throw new UpstreamError("a frame over the message limit");
    }
    len = Number(big);
  }
  if (len > MAX_MESSAGE_BYTES) {
    throw new UpstreamError("a frame over the message limit");
  }
  const mask = b1 & 0x80 ? await exactly(reader, 4) : undefined;
  const payload = await exactly(reader, len);
  if (mask) { for (let i = 0; i < len; i++) payload[i] ^= mask[i & 3]; }
  return { fin: (b0 & 0x80) !== 0, opcode: b0 & 0x0f, payload };
}

function closePayload(code: number, reason: string): Uint8Array {
  const r = enc.encode(reason).subarray(0, 123);
  const out = new Uint8Array(2 + r.byteLength);
  new DataView(out.buffer).setUint16(0, code);
  out.set(r, 2);
  return out;
}

/** Close codes a peer may send in a close frame (RFC 6455 §7.4). */
function sendableCode(code: number): number {
  return code === 1000 || (code >= 3000 && code <= 4999) ||
      (code >= 1001 && code <= 1014 && ![1004, 1005, 1006].includes(code))
    ? code
    : 1000;
}

/**
 * Relays messages between the browser's `socket` and the app behind
 * `channel` (its handshake done, `reader` positioned after the 101 head)
 * until either side closes; then both are closed.
 */
export function relayWebSocket(
  socket: WebSocket,
  channel: ChannelStream,
  reader: StreamReader,
): void {
  socket.binaryType = "arraybuffer";
  let closing = false;
  const up = (opcode: number, payload: Uint8Array) =>
    channel.write(clientFrame(opcode, payload)).catch(() => {});
  const end = (code: number, reason: string) => {
    if (!closing) {
      closing = true;
      void up(0x8, closePayload(sendableCode(code), reason));
    }
    channel.close();
    if (
      socket.readyState === WebSocket.OPEN ||
      socket.readyState === WebSocket.CONNECTING
    ) {
      try {
        socket.close(sendableCode(code), reason.slice(0, 120));
      } catch {
        socket.close();
      }
    }
  };

  socket.onmessage = (ev) => {
    if (typeof ev.data === "string") void up(0x1, enc.encode(ev.data));
    else void up(0x2, new Uint8Array(ev.data as ArrayBuffer));
  };
  socket.onclose = (ev) => end(ev.code || 1000, ev.reason ?? "");
  socket.onerror = () => {};

  const pump = async () => {
    let parts: Uint8Array[] = [];
    let size = 0;
    let type = 0;
    for (;;) {
      const f = await readFrame(reader);
      if (!f) return end(1006, "the app closed the connection");
      if (f.opcode === 0x9) { // ping
        void up(0xa, f.payload);
        continue;
      }
      if (f.opcode === 0xa) continue; // pong
      if (f.opcode === 0x8) {
        const code = f.payload.byteLength >= 2
          ? new DataView(f.payload.buffer).getUint16(0)
          : 1000;
        return end(code, dec.decode(f.payload.subarray(2)));
      }
      if (f.opcode !== 0) type = f.opcode;
      size += f.payload.byteLength;
      if (size > MAX_MESSAGE_BYTES) {
        return end(1009, "a message over the proxy's limit");
      }
      parts.push(f.payload);
      if (!f.fin) continue;
      const msg = parts.length === 1 ? parts[0] : concat(parts, size);
      parts = [];
      size = 0;
      if (socket.readyState !== WebSocket.OPEN) return end(1001, "gone");
      socket.send(type === 0x1 ? dec.decode(msg) : msg);
      while (
        socket.bufferedAmount > DRAIN_BYTES &&
        socket.readyState === WebSocket.OPEN
      ) {
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  };
  const start = () =>
    pump().catch((err) =>
      end(1011, err instanceof Error ? err.message : "relay failed")
    );
  if (socket.readyState === WebSocket.OPEN) start();
  else socket.onopen = start;
}

function concat(parts: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
