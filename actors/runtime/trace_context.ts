/**
 * Trace context of messages (W3C Trace Context), without a telemetry
 * library: a message may carry a `traceparent` string; the runtime keeps it
 * with the message in the mailbox (on the reply slot, so a plain local tell
 * pays nothing), makes it current while the actor handles the message
 * ({@link messageTraceparent}, `ctx.traceparent`), and passes it on to the
 * messages the handler sends synchronously (pass-through propagation, so a
 * chain of actors stays in the caller's trace). A telemetry layer reads it
 * to continue the caller's trace in a span; the cluster puts it on every
 * envelope.
 *
 * @example
 * ```ts
 * import { Actor, ActorSystem, messageTraceparent } from "./mod.ts";
 * import { strictEqual as assertEquals } from "node:assert";
 *
 * class Probe extends Actor<string> {
 *   receive() {
 *     return [this.ctx.traceparent, messageTraceparent()];
 *   }
 * }
 * const system = new ActorSystem();
 * const ref = system.spawn(() => new Probe(), { name: "probe" });
 * const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
 * let answer: unknown;
 * system.deliverWithReply("/user/probe", "hi", {
 *   traceparent: tp,
 *   resolve: (v) => answer = v,
 *   reject: () => {},
 * });
 * await new Promise((r) => setTimeout(r, 0));
 * assertEquals(JSON.stringify(answer), JSON.stringify([tp, tp]));
 * assertEquals(messageTraceparent(), undefined); // outside a receive
 * await system.shutdown();
 * ```
 *
 * @module
 */

import type { Reply } from "./types.ts";
import { ambient } from "./trace_scope.ts";

/**
 * The raw trace of the message being handled, exported as a live binding
 * because `LocalRef.tell` reads it on every send (a call costs more there).
 */
export let current: string | undefined;

/**
 * The raw `traceparent` of the message being handled right now (the
 * synchronous part of `receive`), unchecked; what local sends pass on.
 * With an ambient trace source installed (trace_scope.ts) its answer, the
 * caller's active span, comes first.
 */
export function activeTrace(): string | undefined {
  return ambient === undefined ? current : ambient() ?? current;
}

/** Sets the current message's trace (the actor loop, around `receive`). */
export function setActiveTrace(traceparent: string | undefined): void {
  current = traceparent;
}

/**
 * The W3C `traceparent` of the message being handled right now, during the
 * synchronous part of a `receive` (use `ctx.traceparent` after an `await`);
 * `undefined` outside a receive, for an untraced message, or when the value
 * it carried is malformed (W3C: then start a new trace).
 */
export function messageTraceparent(): string | undefined {
  return validTraceparent(current);
}

/** `s` when it is a well-formed `traceparent`, else `undefined`. */
export function validTraceparent(
  s: string | undefined,
): string | undefined {
  return s !== undefined && isTraceparent(s) ? s : undefined;
}

const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** Is `s` a well-formed version-00 `traceparent` with non-zero ids (W3C Trace Context)? */
export function isTraceparent(s: string): boolean {
  return s.length === 55 && s.charCodeAt(2) === 45 && s.charCodeAt(35) === 45 &&
    s.charCodeAt(52) === 45 &&
    TRACEPARENT.test(s) &&
    !s.startsWith("00000000000000000000000000000000", 3) &&
    !s.startsWith("0000000000000000", 36);
}

/** The reply slot of a traced tell: carries the trace, answers nobody. */
class TraceTag implements Reply {
  constructor(readonly traceparent: string) {}
  resolve(): void {}
  reject(): void {}
}

/** The reply slot for a tell carrying `traceparent` (none when it is undefined). */
export function traceTag(traceparent: string | undefined): Reply | undefined {
  return traceparent === undefined ? undefined : new TraceTag(traceparent);
}
