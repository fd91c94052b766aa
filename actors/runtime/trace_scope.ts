/**
 * Two hooks a telemetry layer plugs into the runtime, so spans made with a
 * tracing library land in the right trace without the runtime importing
 * one. Both are unset by default, and then cost one `undefined` check.
 *
 * - **scope** runs code inside a trace context. The runtime calls it around
 *   the handling of a message that carries a `traceparent` (its span
 *   context becomes the active one while `receive` runs, across its awaits)
 *   and around each turn of the dispatcher with `undefined` (no trace), so
 *   an actor handling an untraced message never sees the context of
 *   whichever caller happened to wake the dispatcher.
 * - **ambient** answers the `traceparent` of the caller's active span; a
 *   send outside any traced receive (an HTTP handler asking an actor, a
 *   timer) then carries it, and inside one it is preferred over the
 *   message's own (it is the same or a child span of it).
 *
 * @example
 * ```ts
 * import { ActorSystem, Actor } from "./mod.ts";
 * import { setAmbientTrace, setTraceScope } from "./trace_scope.ts";
 * import { strictEqual as assertEquals } from "node:assert";
 *
 * const seen: (string | undefined)[] = [];
 * setTraceScope((tp, fn) => { seen.push(tp); return fn(); });
 * const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
 * setAmbientTrace(() => tp);
 * class Echo extends Actor<string> { receive(m: string) { return m; } }
 * const system = new ActorSystem();
 * const ref = system.spawn(() => new Echo(), { name: "echo" });
 * assertEquals(await ref.ask("hi"), "hi");
 * assertEquals(seen.includes(tp), true); // the ask carried the ambient trace
 * setTraceScope(undefined);
 * setAmbientTrace(undefined);
 * await system.shutdown();
 * ```
 *
 * @module
 */

/** Runs `fn` inside the trace context of `traceparent` (none: no trace). */
export type TraceScope = <T>(traceparent: string | undefined, fn: () => T) => T;

/** The `traceparent` of the caller's active span, if there is one. */
export type AmbientTrace = () => string | undefined;

/** The installed scope (a live binding: the runtime reads it per message). */
export let scope: TraceScope | undefined;

/** The installed ambient trace source (a live binding, read per send). */
export let ambient: AmbientTrace | undefined;

/** Installs (or, with `undefined`, removes) the trace scope. */
export function setTraceScope(fn: TraceScope | undefined): void {
  scope = fn;
}

/** Installs (or, with `undefined`, removes) the ambient trace source. */
export function setAmbientTrace(fn: AmbientTrace | undefined): void {
  ambient = fn;
}
