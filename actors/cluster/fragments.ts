/**
 * Large messages in pieces. An envelope whose encoding exceeds the
 * fragment threshold is not sent as one text frame (it could exceed the
 * frame limit, and it would hold up every small message behind it): its
 * UTF-8 bytes are cut into *fragments*, each one binary WebSocket message
 * with a 16-byte header, and the receiver puts them back together before
 * the envelope is decoded and checked like any other.
 *
 * | bytes | field |
 * |-------|-------|
 * | 0 | magic `0xB1` |
 * | 1 | flags: bit 0 first fragment, bit 1 last fragment |
 * | 2–3 | reserved, 0 |
 * | 4–7 | message id (u32, big-endian, per link and direction) |
 * | 8–11 | fragment index (u32, from 0) |
 * | 12–15 | total bytes of the message (u32) |
 * | 16… | payload |
 *
 * Fragments of one message arrive in order (one WebSocket is one ordered
 * stream); fragments of different messages, and small frames, may come in
 * between. Reassembly is bounded: a message larger than the maximum, more
 * bytes or messages in progress than the link allows, a fragment out of
 * order, of an unknown message, or inconsistent with its header drops that
 * message (reported, the link goes on); a message that stops making
 * progress is dropped by {@link Reassembler.sweep}.
 *
 * @module
 */

/** Bytes of the fragment header. */
export const FRAGMENT_HEADER_BYTES = 16;
const MAGIC = 0xb1;
const FIRST = 1;
const LAST = 2;

/** One large message on its way out, handed out fragment by fragment. */
export class OutboundMessage {
  #offset = 0;
  #index = 0;

  constructor(
    /** Message id on this link. */
    readonly id: number,
    /** The UTF-8 bytes of the envelope (a one-envelope frame). */
    readonly bytes: Uint8Array,
    /** Payload bytes per fragment. */
    readonly fragmentBytes: number,
    /** The ordering key it holds up until its last fragment is out (see `outbox.ts`). */
    readonly key: string | undefined,
  ) {}

  /** True once the last fragment was handed out. */
  get done(): boolean {
    return this.#offset >= this.bytes.length;
  }

  /** Bytes not yet handed out. */
  get remaining(): number {
    return this.bytes.length - this.#offset;
  }

  /** The next fragment (header and payload, one binary message). Call only while not {@link done}. */
  next(): Uint8Array {
    const start = this.#offset;
    const end = Math.min(this.bytes.length, start + this.fragmentBytes);
    const frame = new Uint8Array(FRAGMENT_HEADER_BYTES + end - start);
    const h = new DataView(frame.buffer);
    frame[0] = MAGIC;
    frame[1] = (start === 0 ? FIRST : 0) |
      (end === this.bytes.length ? LAST : 0);
    h.setUint32(4, this.id);
    h.setUint32(8, this.#index++);
    h.setUint32(12, this.bytes.length);
    frame.set(this.bytes.subarray(start, end), FRAGMENT_HEADER_BYTES);
    this.#offset = end;
    return frame;
  }
}

/** Why a fragment (and the message it belongs to) was dropped. */
export type FragmentProblem =
  | "malformed"
  | "too-large"
  | "over-budget"
  | "unknown-message"
  | "out-of-order"
  | "duplicate-id";

/** What {@link Reassembler.push} made of one fragment. */
export type FragmentResult =
  | { readonly kind: "partial" }
  | { readonly kind: "complete"; readonly bytes: Uint8Array }
  | {
    readonly kind: "dropped";
    readonly problem: FragmentProblem;
    readonly detail: string;
  };

/** Options of {@link Reassembler}. */
export interface ReassemblerOptions {
  /** Largest message accepted. */
  maxMessageBytes: number;
  /** Most bytes (as declared by first fragments) in progress at once. */
  maxBufferedBytes: number;
  /** Most messages in progress at once. */
  maxMessages: number;
}

interface Partial {
  total: number;
  received: number;
  nextIndex: number;
  parts: Uint8Array[];
  /** Last progress (performance clock, ms). */
  at: number;
}

const PARTIAL: FragmentResult = Object.freeze({ kind: "partial" });

/** Reassembles the fragments arriving on one link; see the module doc. */
export class Reassembler {
  readonly #opts: ReassemblerOptions;
  readonly #inProgress = new Map<number, Partial>();
  #reserved = 0;

  constructor(options: ReassemblerOptions) {
    this.#opts = options;
  }

  /** Bytes reserved by messages in progress (their declared totals). */
  get reservedBytes(): number {
    return this.#reserved;
  }

  /** Messages in progress. */
  get inProgress(): number {
    return this.#inProgress.size;
  }

  /** Takes one binary message; never throws. */
  push(data: Uint8Array, now: number): FragmentResult {
    if (data.length <= FRAGMENT_HEADER_BYTES) {
      return dropped("malformed", `${data.length}-byte binary frame`);
    }
    const h = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const flags = data[1];
    if (data[0] !== MAGIC || data[2] !== 0 || data[3] !== 0 || flags > 3) {
      return dropped("malformed", "not a fragment header");
    }
    const id = h.getUint32(4);
    const index = h.getUint32(8);
    const total = h.getUint32(12);
    const payload = data.subarray(FRAGMENT_HEADER_BYTES);
    let p = this.#inProgress.get(id);
    if ((flags & FIRST) !== 0) {
      if (index !== 0) return dropped("malformed", "first fragment not at 0");
      if (p !== undefined) {
        this.#drop(id, p);
        return dropped("duplicate-id", `message ${id} restarted`);
      }
      if (total > this.#opts.maxMessageBytes) {
        return dropped(
          "too-large",
          `message of ${total} bytes, max ${this.#opts.maxMessageBytes}`,
        );
      }
      if (
        this.#reserved + total > this.#opts.maxBufferedBytes ||
        this.#inProgress.size >= this.#opts.maxMessages
      ) {
        return dropped(
          "over-budget",
          `${this.#inProgress.size} messages (${this.#reserved} bytes) in progress`,
        );
      }
      p = { total, received: 0, nextIndex: 0, parts: [], at: now };
      this.#inProgress.set(id, p);
      this.#reserved += total;
    } else if (p === undefined) {
      return dropped("unknown-message", `fragment ${index} of message ${id}`);
    }
    if (index !== p.nextIndex || total !== p.total) {
      this.#drop(id, p);
      return dropped(
        "out-of-order",
        `fragment ${index} of message ${id}, expected ${p.nextIndex}`,
      );
    }
    const received = p.received + payload.length;
    const last = (flags & LAST) !== 0;
    if (received > p.total || last !== (received === p.total)) {
      this.#drop(id, p);
      return dropped(
        "malformed",
        `message ${id}: length disagrees with header`,
      );
    }
    p.parts.push(payload);
    p.received = received;
    p.nextIndex++;
    p.at = now;
    if (!last) return PARTIAL;
    this.#drop(id, p);
    return { kind: "complete", bytes: concat(p.parts, p.total) };
  }

  /** Drops messages with no progress since `now - stallMs`; returns how many. */
  sweep(now: number, stallMs: number): number {
    let n = 0;
    for (const [id, p] of this.#inProgress) {
      if (now - p.at >= stallMs) {
        this.#drop(id, p);
        n++;
      }
    }
    return n;
  }

  /** Forgets everything in progress (the link closed). */
  clear(): void {
    this.#inProgress.clear();
    this.#reserved = 0;
  }

  #drop(id: number, p: Partial): void {
    if (this.#inProgress.delete(id)) this.#reserved -= p.total;
  }
}

function dropped(problem: FragmentProblem, detail: string): FragmentResult {
  return { kind: "dropped", problem, detail };
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
