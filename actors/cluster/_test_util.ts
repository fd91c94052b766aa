/**
 * A raw peer for the cluster tests: a plain WebSocket that says hello as a
 * node and then sends whatever a test writes (garbage included), with
 * fragment frames written by hand from the wire format (fragments.ts), so
 * a receiver's checks can be driven with frames our own sender never makes.
 *
 * @module
 */

import { importSecret, makeHello } from "./handshake.ts";
import { Kind } from "./protocol.ts";

/** A raw peer's socket and the REPLY envelopes it received. */
export interface RawPeer {
  ws: WebSocket;
  replies: unknown[][];
}

/**
 * Opens `url`, then sends a valid hello as `node` signed with `secret`
 * (the caller waits for the link to count as up, as it sees fit).
 */
export async function rawPeer(
  url: string,
  secret: string,
  node: string,
  options: { binaryType?: BinaryType } = {},
): Promise<RawPeer> {
  const ws = new WebSocket(url);
  if (options.binaryType) ws.binaryType = options.binaryType;
  await new Promise((r) => ws.onopen = r);
  const replies: unknown[][] = [];
  ws.onmessage = (e) => {
    if (typeof e.data !== "string") return;
    try {
      for (const env of JSON.parse(e.data)) {
        if (env[0] === Kind.REPLY) replies.push(env);
      }
    } catch { /* the welcome */ }
  };
  ws.send(
    JSON.stringify(
      await makeHello({
        key: await importSecret(secret),
        node,
        incarnation: 1,
      }),
    ),
  );
  return { ws, replies };
}

/** One fragment frame: magic, flags, message id, index, total length, payload. */
export function fragmentFrame(
  flags: number,
  id: number,
  index: number,
  total: number,
  payload: Uint8Array,
): Uint8Array {
  const f = new Uint8Array(16 + payload.length);
  const v = new DataView(f.buffer);
  f[0] = 0xb1;
  f[1] = flags;
  v.setUint32(4, id);
  v.setUint32(8, index);
  v.setUint32(12, total);
  f.set(payload, 16);
  return f;
}
