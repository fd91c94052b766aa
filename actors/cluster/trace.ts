/**
 * W3C trace context for envelopes. The sender takes the `traceparent` of the
 * active OpenTelemetry span when there is one, else makes a fresh one; the
 * receiver runs delivery inside a context carrying it as the remote parent,
 * so spans started by the receiving actor join the sender's trace (with
 * Deno's built-in OpenTelemetry or any SDK registered with
 * `@opentelemetry/api`).
 *
 * @module
 */

import { type Context, context, trace, TraceFlags } from "@opentelemetry/api";
import { isTraceparent, messageTraceparent } from "../runtime/trace_context.ts";

export { isTraceparent };

const HEX: string[] = Array.from(
  { length: 256 },
  (_, i) => i.toString(16).padStart(2, "0"),
);
const HEX_CODES = new TextEncoder().encode("0123456789abcdef");
const latin1 = new TextDecoder("latin1");
/** Ids per refill of the random pool. */
const POOL_IDS = 1024;
let pool = "";
let poolAt = 0;

type WithToHex = { toHex?: () => string };

/**
 * One `getRandomValues` call, hex-encoded: natively (`Uint8Array#toHex`,
 * four times faster) where the engine has it, else in a typed array (no
 * string joins).
 */
function refill() {
  const bytes = crypto.getRandomValues(new Uint8Array(POOL_IDS * 24));
  const toHex = (bytes as WithToHex).toHex;
  if (toHex !== undefined) {
    pool = toHex.call(bytes);
    poolAt = 0;
    return;
  }
  const hex = new Uint8Array(bytes.length * 2);
  for (let i = 0; i < bytes.length; i++) {
    hex[2 * i] = HEX_CODES[bytes[i] >> 4];
    hex[2 * i + 1] = HEX_CODES[bytes[i] & 15];
  }
  pool = latin1.decode(hex);
  poolAt = 0;
}

/**
 * A new random `traceparent` (sampled flag off: we start no span, we only
 * give the receiver something to correlate with). Ids are cut from a pooled
 * random hex string (one `getRandomValues` per thousand ids, each id its own
 * fresh 24 bytes), which keeps this off the profile of a hot `tell`.
 */
export function newTraceparent(): string {
  if (poolAt >= pool.length) refill();
  const at = poolAt;
  poolAt += 48;
  return "00-" + pool.slice(at, at + 32) + "-" + pool.slice(at + 32, at + 48) +
    "-00";
}

/**
 * The `traceparent` to send: the active OpenTelemetry span's; else, while
 * an actor handles a traced message, that message's (pass-through, so a
 * chain of actors across nodes stays in one trace); else a new one.
 */
export function currentTraceparent(): string {
  const sc = trace.getSpanContext(context.active());
  if (sc !== undefined && trace.isSpanContextValid(sc)) {
    return `00-${sc.traceId}-${sc.spanId}-${HEX[sc.traceFlags & 0xff]}`;
  }
  return messageTraceparent() ?? newTraceparent();
}

/** A context whose active span context is the (remote) `traceparent`. */
export function contextFromTraceparent(
  traceparent: string,
  base: Context = context.active(),
): Context {
  return trace.setSpanContext(base, {
    traceId: traceparent.slice(3, 35),
    spanId: traceparent.slice(36, 52),
    traceFlags: parseInt(traceparent.slice(53, 55), 16) & TraceFlags.SAMPLED,
    isRemote: true,
  });
}

let inbound: string | undefined;

/**
 * The `traceparent` of the envelope being delivered right now (synchronous
 * part of the delivery), or of the message the running actor handles
 * (`ctx.traceparent` is the same inside an actor), for code that wants the
 * raw header without going through OpenTelemetry.
 */
export function inboundTraceparent(): string | undefined {
  if (inbound !== undefined) {
    return isTraceparent(inbound) ? inbound : undefined;
  }
  return messageTraceparent();
}

const PROBE_KEY = Symbol("cluster.trace.probe");

/**
 * Whether an OpenTelemetry context manager is registered (Deno's built-in
 * one with `OTEL_DENO=true`, or an SDK's). Without one, `context.with`
 * cannot carry anything, so building a context per message would be waste.
 * Cheap enough to ask once per frame.
 */
export function hasContextManager(): boolean {
  const probe = context.active().setValue(PROBE_KEY, true);
  return context.with(
    probe,
    () => context.active().getValue(PROBE_KEY) === true,
  );
}

/**
 * Run `fn` inside the trace context of a received envelope: the raw header
 * is available through {@link inboundTraceparent} during the call, and when
 * `useContext` is set (an OpenTelemetry context manager is active) the span
 * context is active too, so spans `fn` starts become its children. An
 * invalid header is ignored (W3C: start a new trace, do not fail).
 */
export function withTraceparent<T>(
  traceparent: string,
  fn: () => T,
  useContext = true,
): T {
  const prev = inbound;
  inbound = traceparent; // validated lazily, by whoever reads it
  try {
    return useContext && isTraceparent(traceparent)
      ? context.with(contextFromTraceparent(traceparent), fn)
      : fn();
  } finally {
    inbound = prev;
  }
}
