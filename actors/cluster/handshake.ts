/**
 * Mutual authentication of a link with the cluster secret, without sending it.
 *
 * The dialer sends a {@link Hello}: node id, incarnation, a random nonce, its
 * clock, and HMAC-SHA256(secret) over those. The acceptor checks the MAC, the
 * time (within ±`windowMs`) and that the nonce was not seen within the
 * window (so a captured hello cannot be replayed), then answers a
 * {@link Welcome} whose MAC also covers the dialer's nonce, which proves to
 * the dialer that the acceptor knows the secret too and is live.
 *
 * @module
 */

import { HandshakeRefusedError } from "./errors.ts";
import {
  type Hello,
  helloSchema,
  PROTOCOL_VERSION,
  type Welcome,
  welcomeSchema,
} from "./protocol.ts";

/** Default replay window: hellos more than 30 s off the local clock are refused. */
export const DEFAULT_WINDOW_MS = 30_000;

const encoder = new TextEncoder();

/** Import the cluster secret once as an HMAC-SHA256 key. */
export function importSecret(secret: string): Promise<CryptoKey> {
  if (secret.length === 0) {
    throw new TypeError("cluster secret must not be empty");
  }
  return crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    [
      "sign",
      "verify",
    ],
  );
}

function b64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function unb64url(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(
    s.replaceAll("-", "+").replaceAll("_", "/") +
      "=".repeat((4 - s.length % 4) % 4),
  );
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** A fresh random nonce (128 bits, base64url). */
export function newNonce(): string {
  return b64url(crypto.getRandomValues(new Uint8Array(16)));
}

function macInput(
  kind: string,
  node: string,
  inc: number,
  nonce: string,
  time: number,
  peerNonce: string,
) {
  return encoder.encode(
    `backend.ai-cluster/v${PROTOCOL_VERSION}\n${kind}\n${node}\n${inc}\n${nonce}\n${time}\n${peerNonce}`,
  );
}

async function sign(
  key: CryptoKey,
  data: Uint8Array<ArrayBuffer>,
): Promise<string> {
  return b64url(new Uint8Array(await crypto.subtle.sign("HMAC", key, data)));
}

/**
 * Remembers nonces seen within the window. Entries older than the window are
 * forgotten: a hello that old is refused by the time check anyway.
 */
export class NonceCache {
  #seen = new Map<string, number>();
  constructor(readonly windowMs = DEFAULT_WINDOW_MS) {}

  /** Record `nonce` seen at `now`; false when it was already seen in the window. */
  add(nonce: string, now: number): boolean {
    this.#expire(now);
    if (this.#seen.has(nonce)) return false;
    this.#seen.set(nonce, now);
    return true;
  }

  get size(): number {
    return this.#seen.size;
  }

  #expire(now: number) {
    // Insertion order is time order, so stop at the first live entry.
    for (const [nonce, at] of this.#seen) {
      if (now - at <= 2 * this.windowMs) break;
      this.#seen.delete(nonce);
    }
  }
}

/** Identity of the local side of a handshake. */
export interface HandshakeIdentity {
  key: CryptoKey;
  node: string;
  incarnation: number;
}

/** Build the dialer's hello. */
export async function makeHello(
  id: HandshakeIdentity,
  now = Date.now(),
): Promise<Hello> {
  const nonce = newNonce();
  const time = Math.floor(now);
  const mac = await sign(
    id.key,
    macInput("hello", id.node, id.incarnation, nonce, time, ""),
  );
  return {
    t: "hello",
    v: PROTOCOL_VERSION,
    node: id.node,
    inc: id.incarnation,
    nonce,
    time,
    mac,
  };
}

/** Build the acceptor's welcome, bound to the dialer's nonce. */
export async function makeWelcome(
  id: HandshakeIdentity,
  peerNonce: string,
  now = Date.now(),
): Promise<Welcome> {
  const nonce = newNonce();
  const time = Math.floor(now);
  const mac = await sign(
    id.key,
    macInput("welcome", id.node, id.incarnation, nonce, time, peerNonce),
  );
  return {
    t: "welcome",
    v: PROTOCOL_VERSION,
    node: id.node,
    inc: id.incarnation,
    nonce,
    time,
    mac,
  };
}

async function verify(
  key: CryptoKey,
  msg: Hello | Welcome,
  peerNonce: string,
  nonces: NonceCache | undefined,
  now: number,
  windowMs: number,
): Promise<void> {
  if (msg.v !== PROTOCOL_VERSION) {
    throw new HandshakeRefusedError(
      "protocol",
      `protocol version ${msg.v}, expected ${PROTOCOL_VERSION}`,
    );
  }
  const ok = await crypto.subtle.verify(
    "HMAC",
    key,
    unb64url(msg.mac),
    macInput(msg.t, msg.node, msg.inc, msg.nonce, msg.time, peerNonce),
  );
  if (!ok) {
    throw new HandshakeRefusedError(
      "bad-secret",
      `MAC from ${msg.node} does not match: wrong cluster secret`,
    );
  }
  const skew = msg.time - now;
  if (Math.abs(skew) > windowMs) {
    throw new HandshakeRefusedError(
      "clock-skew",
      `clock of ${msg.node} is ${skew} ms off (window ±${windowMs} ms)`,
    );
  }
  if (nonces && !nonces.add(msg.nonce, now)) {
    throw new HandshakeRefusedError(
      "replay",
      `nonce from ${msg.node} was already used`,
    );
  }
}

/**
 * Check a received hello (acceptor side). Throws {@link HandshakeRefusedError}
 * with the reason to send back; returns the parsed hello when it is good.
 */
export async function checkHello(
  key: CryptoKey,
  raw: unknown,
  nonces: NonceCache,
  now = Date.now(),
): Promise<Hello> {
  const r = helloSchema.safeParse(raw);
  if (!r.success) {
    throw new HandshakeRefusedError(
      "malformed",
      "first message is not a valid hello",
    );
  }
  await verify(key, r.data, "", nonces, now, nonces.windowMs);
  return r.data;
}

/** Check the welcome answering our hello (dialer side). */
export async function checkWelcome(
  key: CryptoKey,
  raw: unknown,
  ourNonce: string,
  now = Date.now(),
  windowMs = DEFAULT_WINDOW_MS,
): Promise<Welcome> {
  const r = welcomeSchema.safeParse(raw);
  if (!r.success) {
    throw new HandshakeRefusedError(
      "malformed",
      "answer is not a valid welcome",
    );
  }
  await verify(key, r.data, ourNonce, undefined, now, windowMs);
  return r.data;
}
