/**
 * The receive-side check of envelopes: exactly the zod schemas of
 * `protocol.ts` (which stay the specification), written out by hand. Zod's
 * generic tuple machinery cost about a fifth of a node's receive path at a
 * million tells per second; these checks cost a few comparisons.
 * `envelope_test.ts` holds both to the same verdicts and outputs, so the
 * schemas and this file cannot drift apart silently.
 *
 * Validated once: the envelope here, the message inside it by the schema
 * registered for its path (`schemas.ts`), nothing twice.
 *
 * @module
 */

import { type Envelope, Kind } from "./protocol.ts";

/** Length of `s` in code points, as zod's `.max()` counts it. */
function codePoints(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    if (
      (s.charCodeAt(i) & 0xfc00) === 0xd800 &&
      (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00
    ) {
      n--;
      i++;
    }
  }
  return n;
}

/** `z.string().max(max)`. */
function str(v: unknown, max: number): v is string {
  return typeof v === "string" && (v.length <= max || codePoints(v) <= max);
}

/** `pathSchema`: absolute, at most 1024 code points. */
function path(v: unknown): v is string {
  return str(v, 1024) && v.startsWith("/");
}

/** `traceparentSchema`: a string of at most 64 code points. */
function tp(v: unknown): v is string {
  return typeof v === "string" && (v.length <= 64 || codePoints(v) <= 64);
}

/** `z.number()`: finite. */
function num(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

/** The ask id: `z.number().int().nonnegative()`. */
function askId(v: unknown): v is number {
  return Number.isSafeInteger(v) && (v as number) >= 0;
}

/** `stopReasonSchema`, returning a fresh object without unknown keys (as zod strips them). */
function stopReason(v: unknown): unknown {
  if (typeof v !== "object" || v === null) return undefined;
  const r = v as { kind?: unknown; error?: unknown; node?: unknown };
  switch (r.kind) {
    case "normal":
      return { kind: "normal" };
    case "failure":
      return typeof r.error === "string"
        ? { kind: "failure", error: r.error }
        : undefined;
    case "node-down":
      return typeof r.node === "string"
        ? { kind: "node-down", node: r.node }
        : undefined;
  }
  return undefined;
}

/**
 * Validate one decoded envelope (a freshly parsed JSON value, which this
 * may return as is); `undefined` when it is malformed or of an unknown kind.
 */
export function checkEnvelope(raw: unknown): Envelope | undefined {
  if (!Array.isArray(raw)) return undefined;
  const e = raw as unknown[];
  const n = e.length;
  switch (e[0]) {
    case Kind.TELL:
      return n === 4 && path(e[1]) && tp(e[3]) ? raw as Envelope : undefined;
    case Kind.ASK:
      return n === 6 && askId(e[1]) && path(e[2]) &&
          Number.isSafeInteger(e[4]) && (e[4] as number) > 0 &&
          (e[4] as number) <= 86_400_000 && tp(e[5])
        ? raw as Envelope
        : undefined;
    case Kind.REPLY:
      return n === 4 && askId(e[1]) && tp(e[3]) ? raw as Envelope : undefined;
    case Kind.FAIL:
      return n === 5 && askId(e[1]) && str(e[2], 256) && str(e[3], 65_536) &&
          tp(e[4])
        ? raw as Envelope
        : undefined;
    case Kind.WATCH:
    case Kind.UNWATCH:
      return n === 4 && path(e[1]) && path(e[2]) && tp(e[3])
        ? raw as Envelope
        : undefined;
    case Kind.TERMINATED: {
      if (n !== 5 || !path(e[1]) || !path(e[2]) || !tp(e[4])) return undefined;
      const reason = stopReason(e[3]);
      return reason === undefined
        ? undefined
        : [Kind.TERMINATED, e[1], e[2], reason, e[4]] as Envelope;
    }
    case Kind.HEARTBEAT:
    case Kind.PONG:
    case Kind.PING:
      return n === 2 && num(e[1]) ? raw as Envelope : undefined;
    case Kind.LEAVE:
      return n === 2 && str(e[1], 1024) ? raw as Envelope : undefined;
  }
  return undefined;
}
