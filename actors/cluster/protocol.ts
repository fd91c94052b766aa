/**
 * The wire protocol between nodes, as zod schemas. Everything a node receives
 * is checked against these before it is acted on.
 *
 * After the handshake (two JSON objects, see {@link Hello}) every WebSocket
 * text message is a *frame*: a JSON array of *envelopes*. Envelopes are
 * compact JSON arrays whose first element is the {@link Kind}; arrays instead
 * of objects keep the bytes and the parse time down (no repeated keys), which
 * is what makes several hundred thousand remote tells per second possible.
 *
 * | kind | shape |
 * |------|-------|
 * | TELL | `[0, path, msg, traceparent]` |
 * | ASK | `[1, id, path, msg, timeoutMs, traceparent]` |
 * | REPLY | `[2, id, value, traceparent]` |
 * | FAIL | `[3, id, errorName, errorMessage, traceparent]` |
 * | WATCH | `[4, targetPath, watcherPath, traceparent]` |
 * | UNWATCH | `[5, targetPath, watcherPath, traceparent]` |
 * | TERMINATED | `[6, watcherPath, targetPath, reason, traceparent]` |
 * | HEARTBEAT | `[7, sentAt]` |
 * | LEAVE | `[8, reason]` |
 * | PONG | `[9, sentAt]` (answers a PING with its `sentAt`) |
 * | PING | `[10, sentAt]` (a heartbeat that asks for a PONG: the link's RTT) |
 *
 * A message whose envelope encodes larger than the fragment threshold
 * travels instead as binary WebSocket messages, the *fragments* of
 * `fragments.ts`, which the receiver reassembles into one envelope before
 * it is checked like any other.
 *
 * Paths are local to the node at the other end of the link (for TELL, ASK,
 * WATCH the receiver's; for TERMINATED the target lives on the sender).
 *
 * @module
 */

import { z } from "zod";

/**
 * Protocol version spoken in the handshake; a mismatch is refused.
 * 2: binary fragments for large envelopes, PING/PONG.
 */
export const PROTOCOL_VERSION = 2;

/** Envelope kinds: the first element of every envelope array. */
export const Kind = {
  TELL: 0,
  ASK: 1,
  REPLY: 2,
  FAIL: 3,
  WATCH: 4,
  UNWATCH: 5,
  TERMINATED: 6,
  HEARTBEAT: 7,
  LEAVE: 8,
  PONG: 9,
  PING: 10,
} as const;

/** An actor path on the receiving node: absolute, bounded. */
export const pathSchema = z.string().max(1024).startsWith("/");

/** A node id: short, printable, no whitespace (it ends up in logs and paths). */
export const nodeIdSchema = z.string().min(1).max(128).regex(/^[\x21-\x7e]+$/);

/**
 * W3C `traceparent` as carried: a bounded string. Its content is parsed by
 * `trace.ts` at delivery, and per W3C Trace Context an unparsable value
 * starts a new trace rather than failing the request, so a bad header does
 * not drop the message (and a full regex per envelope would cost a third of
 * the receive path).
 */
export const traceparentSchema = z.string().max(64);

const askId = z.number().int().nonnegative();

/** Wire form of a stop reason (mirrors `StopReason` of the runtime). */
export const stopReasonSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("normal") }),
  z.object({ kind: z.literal("failure"), error: z.string() }),
  z.object({ kind: z.literal("node-down"), node: z.string() }),
]);

/** Wire form of an actor ref inside a message; revived into a live ref on receipt. */
export const wireRefSchema = z.object({
  $ref: z.object({ node: nodeIdSchema, path: pathSchema }),
});

export const tellSchema = z.tuple([
  z.literal(Kind.TELL),
  pathSchema,
  z.unknown(),
  traceparentSchema,
]);
export const askSchema = z.tuple([
  z.literal(Kind.ASK),
  askId,
  pathSchema,
  z.unknown(),
  z.number().int().positive().max(86_400_000),
  traceparentSchema,
]);
export const replySchema = z.tuple([
  z.literal(Kind.REPLY),
  askId,
  z.unknown(),
  traceparentSchema,
]);
export const failSchema = z.tuple([
  z.literal(Kind.FAIL),
  askId,
  z.string().max(256),
  z.string().max(65_536),
  traceparentSchema,
]);
export const watchSchema = z.tuple([
  z.literal(Kind.WATCH),
  pathSchema,
  pathSchema,
  traceparentSchema,
]);
export const unwatchSchema = z.tuple([
  z.literal(Kind.UNWATCH),
  pathSchema,
  pathSchema,
  traceparentSchema,
]);
export const terminatedSchema = z.tuple([
  z.literal(Kind.TERMINATED),
  pathSchema,
  pathSchema,
  stopReasonSchema,
  traceparentSchema,
]);
export const heartbeatSchema = z.tuple([z.literal(Kind.HEARTBEAT), z.number()]);
export const leaveSchema = z.tuple([
  z.literal(Kind.LEAVE),
  z.string().max(1024),
]);
export const pongSchema = z.tuple([z.literal(Kind.PONG), z.number()]);
export const pingSchema = z.tuple([z.literal(Kind.PING), z.number()]);

export type TellEnvelope = z.infer<typeof tellSchema>;
export type AskEnvelope = z.infer<typeof askSchema>;
export type ReplyEnvelope = z.infer<typeof replySchema>;
export type FailEnvelope = z.infer<typeof failSchema>;
export type WatchEnvelope = z.infer<typeof watchSchema>;
export type UnwatchEnvelope = z.infer<typeof unwatchSchema>;
export type TerminatedEnvelope = z.infer<typeof terminatedSchema>;
export type HeartbeatEnvelope = z.infer<typeof heartbeatSchema>;
export type LeaveEnvelope = z.infer<typeof leaveSchema>;
export type PongEnvelope = z.infer<typeof pongSchema>;
export type PingEnvelope = z.infer<typeof pingSchema>;

/** Any valid envelope. */
export type Envelope =
  | TellEnvelope
  | AskEnvelope
  | ReplyEnvelope
  | FailEnvelope
  | WatchEnvelope
  | UnwatchEnvelope
  | TerminatedEnvelope
  | HeartbeatEnvelope
  | LeaveEnvelope
  | PongEnvelope
  | PingEnvelope;

/**
 * Schemas indexed by kind: the specification of every envelope. Received
 * envelopes are checked by `envelope.ts`, which implements exactly these
 * schemas without zod's generic machinery (zod was a fifth of the receive
 * path); `envelope_test.ts` holds the two to the same verdicts.
 */
export const envelopeSchemas: readonly z.ZodType<Envelope>[] = [
  tellSchema,
  askSchema,
  replySchema,
  failSchema,
  watchSchema,
  unwatchSchema,
  terminatedSchema,
  heartbeatSchema,
  leaveSchema,
  pongSchema,
  pingSchema,
] as z.ZodType<Envelope>[];

/** Validate one decoded envelope with the zod schemas (the reference; the hot path uses `envelope.ts`). */
export function parseEnvelope(raw: unknown): Envelope | undefined {
  if (!Array.isArray(raw)) return undefined;
  const kind = raw[0];
  if (typeof kind !== "number") return undefined;
  const schema = envelopeSchemas[kind];
  if (schema === undefined) return undefined;
  const r = schema.safeParse(raw);
  return r.success ? r.data : undefined;
}

const nonceSchema = z.string().regex(/^[A-Za-z0-9_-]{16,64}$/);
const macSchema = z.string().regex(/^[A-Za-z0-9_-]{43}$/);

/** First message of the dialing side. */
export const helloSchema = z.object({
  t: z.literal("hello"),
  v: z.number().int(),
  node: nodeIdSchema,
  inc: z.number().int().nonnegative(),
  nonce: nonceSchema,
  time: z.number().int().nonnegative(),
  mac: macSchema,
});
/** Answer of the accepting side; its MAC also covers the dialer's nonce. */
export const welcomeSchema = helloSchema.extend({ t: z.literal("welcome") });
/** Sent (then the socket is closed) when a handshake is refused. */
export const refusedSchema = z.object({
  t: z.literal("refused"),
  code: z.enum([
    "bad-secret",
    "clock-skew",
    "replay",
    "malformed",
    "self",
    "protocol",
    "timeout",
    "closing",
  ]),
  detail: z.string().max(1024),
});
export type Hello = z.infer<typeof helloSchema>;
export type Welcome = z.infer<typeof welcomeSchema>;
export type Refused = z.infer<typeof refusedSchema>;

/** WebSocket close code used when a handshake is refused (private-use range). */
export const CLOSE_REFUSED = 4001;
/** WebSocket close code of a graceful leave. */
export const CLOSE_LEAVE = 4000;
/** WebSocket close code when a link is replaced by a newer incarnation's. */
export const CLOSE_SUPERSEDED = 4002;
