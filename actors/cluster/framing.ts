/**
 * Frames: many envelopes in one WebSocket text message. Outbound, envelopes
 * are encoded one by one when queued (so a too-large message fails at the
 * caller) and joined into frames at flush; inbound, a frame is size-checked,
 * parsed once and each envelope validated on its own, so one bad envelope
 * costs only itself. (An envelope too large for a frame travels in
 * fragments, `fragments.ts`, and is decoded here once reassembled.)
 *
 * @module
 */

import { checkEnvelope } from "./envelope.ts";
import { FrameTooLargeError } from "./errors.ts";
import type { Envelope } from "./protocol.ts";

/** Default maximum size of one frame, in bytes (4 MiB). */
export const DEFAULT_MAX_FRAME_BYTES = 4 * 1024 * 1024;

const encoder = new TextEncoder();

/**
 * UTF-8 byte length of `s`, computed exactly only when the cheap bound
 * (UTF-16 length × 3) does not already settle it against `limit`.
 */
export function utf8Length(s: string, limit = Infinity): number {
  if (s.length * 3 <= limit) return s.length; // a lower bound is enough here
  return encoder.encode(s).length;
}

/**
 * Encode one envelope. Throws {@link FrameTooLargeError} when it would
 * exceed `maxBytes` (the cluster passes its largest message, which may
 * span many fragments): better a clear error at the sender than a message
 * the receiver must refuse.
 */
export function encodeEnvelope(
  env: readonly unknown[],
  maxFrameBytes = DEFAULT_MAX_FRAME_BYTES,
): string {
  return sized(JSON.stringify(env), maxFrameBytes);
}

/** `s`, unless its UTF-8 form (plus a frame's brackets) exceeds `max`. */
function sized(s: string, max: number): string {
  if (s.length * 3 > max - 2) {
    const bytes = encoder.encode(s).length + 2;
    if (bytes > max) throw new FrameTooLargeError(bytes, max);
  }
  return s;
}

/** A value as an element of a JSON array (`undefined` and functions become `null`, as `JSON.stringify` does in arrays). */
function element(v: unknown): string {
  return JSON.stringify(v) ?? "null";
}

/*
 * The hot kinds are encoded by concatenation rather than by stringifying
 * a fresh array: the same JSON text (framing_test.ts checks it), without
 * building and walking an array per message; the wrapper went from about
 * 150 ns to 30 here.
 */

/** `encodeEnvelope([Kind.TELL, path, msg, traceparent])`. */
export function encodeTell(
  path: string,
  msg: unknown,
  traceparent: string,
  maxBytes = DEFAULT_MAX_FRAME_BYTES,
): string {
  return sized(
    "[0," + JSON.stringify(path) + "," + element(msg) + "," +
      JSON.stringify(traceparent) + "]",
    maxBytes,
  );
}

/** `encodeEnvelope([Kind.ASK, id, path, msg, timeoutMs, traceparent])`. */
export function encodeAsk(
  id: number,
  path: string,
  msg: unknown,
  timeoutMs: number,
  traceparent: string,
  maxBytes = DEFAULT_MAX_FRAME_BYTES,
): string {
  return sized(
    "[1," + element(id) + "," + JSON.stringify(path) + "," + element(msg) +
      "," + element(timeoutMs) + "," + JSON.stringify(traceparent) + "]",
    maxBytes,
  );
}

/** `encodeEnvelope([Kind.REPLY, id, value ?? null, traceparent])`. */
export function encodeReply(
  id: number,
  value: unknown,
  traceparent: string,
  maxBytes = DEFAULT_MAX_FRAME_BYTES,
): string {
  return sized(
    "[2," + element(id) + "," + element(value) + "," +
      JSON.stringify(traceparent) + "]",
    maxBytes,
  );
}

/** Options of {@link FrameQueue}. */
export interface FrameQueueOptions {
  /** Most bytes (UTF-16 units, a close bound for ASCII JSON) per frame. @default {65536} */
  batchBytes?: number;
  /** Most envelopes per frame. @default {4096} */
  batchCount?: number;
  /** Most envelopes waiting to be sent; `push` refuses beyond it. @default {200000} */
  maxQueued?: number;
}

/**
 * A bounded FIFO of encoded envelopes that hands them out as frames.
 * Uses a head index rather than `shift()` so draining stays O(n).
 */
export class FrameQueue {
  #items: string[] = [];
  #head = 0;
  readonly batchBytes: number;
  readonly batchCount: number;
  readonly maxQueued: number;

  constructor(options: FrameQueueOptions = {}) {
    this.batchBytes = options.batchBytes ?? 65_536;
    this.batchCount = options.batchCount ?? 4096;
    this.maxQueued = options.maxQueued ?? 200_000;
  }

  /** Envelopes waiting. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** Queue an encoded envelope; false (nothing queued) when the queue is full. */
  push(encoded: string): boolean {
    if (this.size >= this.maxQueued) return false;
    this.#items.push(encoded);
    return true;
  }

  /** Queue an envelope even when full (control traffic such as heartbeats). */
  pushUrgent(encoded: string): void {
    this.#items.push(encoded);
  }

  /** Take the next frame (a JSON array text), or undefined when empty. */
  take(): string | undefined {
    const items = this.#items;
    const start = this.#head;
    if (start >= items.length) return undefined;
    let end = start;
    let bytes = 2;
    while (end < items.length && end - start < this.batchCount) {
      const len = items[end].length + 1;
      if (end > start && bytes + len > this.batchBytes) break;
      bytes += len;
      end++;
    }
    const frame = end - start === 1
      ? `[${items[start]}]`
      : `[${items.slice(start, end).join(",")}]`;
    this.#head = end;
    if (this.#head === items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head > 65_536 && this.#head * 2 > items.length) {
      this.#items = items.slice(this.#head);
      this.#head = 0;
    }
    return frame;
  }

  /** Drop everything queued and return the dropped encoded envelopes (to count them as dead letters). */
  clear(): string[] {
    const rest = this.#items.slice(this.#head);
    this.#items = [];
    this.#head = 0;
    return rest;
  }
}

/** Why a whole frame (or a reassembled message) was dropped. */
export type FrameProblem =
  | "too-large"
  | "binary"
  | "not-json"
  | "not-array"
  | "bad-fragment"
  | "not-utf8";

/** Result of {@link decodeFrame}. */
export interface DecodedFrame {
  /** The valid envelopes, in order. */
  envelopes: Envelope[];
  /** Envelopes that were malformed or of an unknown kind. */
  invalid: number;
  /** Set when the whole frame was dropped. */
  problem?: FrameProblem;
  /** Byte size, when known (always set for `too-large`). */
  bytes?: number;
  /** What was wrong, for the log (set for `bad-fragment`). */
  detail?: string;
  /** The text contains `"$ref"`, so messages may carry refs to revive. */
  hasRefs: boolean;
}

/**
 * Check and parse one received WebSocket message. Never throws: a bad frame
 * is reported through `problem`/`invalid` so the link can count, log and go on.
 */
export function decodeFrame(
  data: unknown,
  maxFrameBytes = DEFAULT_MAX_FRAME_BYTES,
): DecodedFrame {
  if (typeof data !== "string") {
    const bytes = data instanceof ArrayBuffer ? data.byteLength : undefined;
    if (bytes !== undefined && bytes > maxFrameBytes) {
      return {
        envelopes: [],
        invalid: 0,
        problem: "too-large",
        bytes,
        hasRefs: false,
      };
    }
    return {
      envelopes: [],
      invalid: 0,
      problem: "binary",
      bytes,
      hasRefs: false,
    };
  }
  if (data.length > maxFrameBytes || data.length * 3 > maxFrameBytes) {
    const bytes = utf8Length(data, maxFrameBytes);
    if (bytes > maxFrameBytes) {
      return {
        envelopes: [],
        invalid: 0,
        problem: "too-large",
        bytes,
        hasRefs: false,
      };
    }
  }
  let raw: unknown;
  try {
    raw = JSON.parse(data);
  } catch {
    return { envelopes: [], invalid: 0, problem: "not-json", hasRefs: false };
  }
  if (!Array.isArray(raw)) {
    return { envelopes: [], invalid: 0, problem: "not-array", hasRefs: false };
  }
  const envelopes: Envelope[] = [];
  let invalid = 0;
  for (let i = 0; i < raw.length; i++) {
    const env = checkEnvelope(raw[i]);
    if (env === undefined) invalid++;
    else envelopes.push(env);
  }
  return { envelopes, invalid, hasRefs: data.includes('"$ref"') };
}
