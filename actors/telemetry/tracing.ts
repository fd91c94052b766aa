/**
 * Tracing helpers over `@opentelemetry/api`, for Deno's built-in
 * OpenTelemetry (`OTEL_DENO=true`, exporter configured by the standard
 * `OTEL_*` variables): spans around work ({@link withSpan},
 * {@link startSpan}), errors recorded on them, and trace context to and
 * from a W3C `traceparent` string ({@link traceparentOf},
 * {@link contextOf}, {@link inTrace}) — the form it takes in an HTTP
 * header, a cluster envelope, a message or a kernel's environment.
 *
 * Off by default: without `OTEL_DENO` every helper returns at once after
 * one boolean check, with a shared no-op span handle (no allocation).
 *
 * With tracing on, importing this module also plugs the runtime's trace
 * hooks (actors/runtime/trace_scope.ts): an actor handling a traced
 * message runs with that trace as its active context, and a send made
 * inside a span carries the span, so a request's spans form one tree
 * across actors and nodes.
 *
 * @example
 * ```ts
 * import { withSpan } from "./tracing.ts";
 * import { strictEqual as assertEquals } from "node:assert";
 *
 * const answer = await withSpan("answer", { "question.id": 42 }, async (span) => {
 *   span.set({ "answer.cached": false });
 *   return await Promise.resolve(42);
 * });
 * assertEquals(answer, 42);
 * ```
 *
 * @module
 */

import {
  type Attributes,
  type Context,
  context,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
} from "@opentelemetry/api";
import {
  isTraceparent,
  setAmbientTrace,
  setTraceScope,
} from "../runtime/mod.ts";
import { TRACING } from "./enabled.ts";

export { TRACING };

/** Attribute values a span takes; `undefined`/`null` ones are left out. */
export type SpanAttributes = Readonly<
  Record<string, string | number | boolean | undefined | null>
>;

/** The kind of a span (OpenTelemetry's SpanKind, by name). */
export type SpanKindName =
  | "internal"
  | "server"
  | "client"
  | "producer"
  | "consumer";

/** Options of {@link withSpan} and {@link startSpan}. */
export interface SpanOptions {
  /** @default {"internal"} */
  kind?: SpanKindName;
  /**
   * The parent: a W3C `traceparent` (a caller elsewhere), or `null` for a
   * new trace. A malformed string starts a new trace (W3C). @default {the active span}
   */
  parent?: string | null;
  /** Start time, ms since the epoch (e.g. when a queued job was enqueued). @default {now} */
  startTime?: number;
}

/** What code may do with its span; a no-op when tracing is off. */
export interface SpanHandle {
  /** This span as a `traceparent`, to pass on (undefined when tracing is off). */
  readonly traceparent: string | undefined;
  /** Adds attributes. */
  set(attrs: SpanAttributes): void;
  /** Renames the span (once the name is known, e.g. a request's route). */
  rename(name: string): void;
  /** Records an error: an exception event, status ERROR, `error.type`. */
  error(err: unknown): void;
  /** Ends the span (with last attributes); later calls are ignored. */
  end(attrs?: SpanAttributes): void;
  /** Runs `fn` with this span as the active one (its sends carry it). */
  run<T>(fn: () => T): T;
}

const NOOP: SpanHandle = {
  traceparent: undefined,
  set() {},
  rename() {},
  error() {},
  end() {},
  run: (fn) => fn(),
};

const KINDS: Record<SpanKindName, SpanKind> = {
  internal: SpanKind.INTERNAL,
  server: SpanKind.SERVER,
  client: SpanKind.CLIENT,
  producer: SpanKind.PRODUCER,
  consumer: SpanKind.CONSUMER,
};

const tracer = trace.getTracer("actors");

const HEX2 = (n: number) => (n & 0xff).toString(16).padStart(2, "0");

/** The `traceparent` of the active span in `ctx`, if there is a valid one. */
export function traceparentOf(
  ctx: Context = context.active(),
): string | undefined {
  const sc = trace.getSpanContext(ctx);
  if (sc === undefined || !trace.isSpanContextValid(sc)) return undefined;
  return `00-${sc.traceId}-${sc.spanId}-${HEX2(sc.traceFlags)}`;
}

/**
 * The context to start a span in: `base` with `traceparent` as its
 * (remote) parent; a new trace for `null` or a malformed string; `base`
 * itself for `undefined`.
 */
export function contextOf(
  traceparent: string | null | undefined,
  base: Context = context.active(),
): Context {
  if (traceparent === undefined) return base;
  if (traceparent === null || !isTraceparent(traceparent)) {
    return trace.deleteSpan(base);
  }
  return trace.setSpanContext(base, {
    traceId: traceparent.slice(3, 35),
    spanId: traceparent.slice(36, 52),
    traceFlags: parseInt(traceparent.slice(53, 55), 16) & TraceFlags.SAMPLED,
    isRemote: true,
  });
}

/** Runs `fn` with `traceparent` as the active trace context (no span of its own). */
export function inTrace<T>(traceparent: string | undefined, fn: () => T): T {
  if (!TRACING || traceparent === undefined) return fn();
  return context.with(contextOf(traceparent), fn);
}

function clean(attrs: SpanAttributes | undefined): Attributes | undefined {
  if (attrs === undefined) return undefined;
  const out: Attributes = {};
  for (const k in attrs) {
    const v = attrs[k];
    if (v !== undefined && v !== null) out[k] = v;
  }
  return out;
}

/** The `error.type` of a failure: its problem type (a refusal) or its name. */
function errorType(err: unknown): string {
  const p = (err as { problemType?: unknown } | null)?.problemType;
  if (typeof p === "string") return p;
  return err instanceof Error ? err.name : typeof err;
}

/** Records `err` on `span`: an exception event, status ERROR and `error.type`. */
export function recordError(span: Span, err: unknown): void {
  const e = err instanceof Error ? err : new Error(String(err));
  span.recordException(e);
  span.setStatus({ code: SpanStatusCode.ERROR, message: e.message });
  span.setAttribute("error.type", errorType(err));
}

class Handle implements SpanHandle {
  #ended = false;
  readonly ctx: Context;
  constructor(readonly span: Span, parent: Context) {
    this.ctx = trace.setSpan(parent, span);
  }
  get traceparent(): string | undefined {
    return traceparentOf(this.ctx);
  }
  set(attrs: SpanAttributes): void {
    const a = clean(attrs);
    if (a !== undefined) this.span.setAttributes(a);
  }
  rename(name: string): void {
    this.span.updateName(name);
  }
  error(err: unknown): void {
    recordError(this.span, err);
  }
  end(attrs?: SpanAttributes): void {
    if (this.#ended) return;
    this.#ended = true;
    if (attrs !== undefined) this.set(attrs);
    this.span.end();
  }
  run<T>(fn: () => T): T {
    return context.with(this.ctx, fn);
  }
}

/**
 * Starts a span the caller ends (work that outlives the call: a run that
 * ends on a later event). Off: the shared no-op handle.
 */
export function startSpan(
  name: string,
  attrs?: SpanAttributes,
  options: SpanOptions = {},
): SpanHandle {
  if (!TRACING) return NOOP;
  const parent = contextOf(options.parent);
  const span = tracer.startSpan(name, {
    kind: KINDS[options.kind ?? "internal"],
    attributes: clean(attrs),
    startTime: options.startTime,
  }, parent);
  return new Handle(span, parent);
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof (v as { then?: unknown } | null)?.then === "function";
}

/**
 * Runs `fn` in a new span, active while it runs (across its awaits), ended
 * when `fn` returns or its promise settles; a throw or rejection is
 * recorded on the span and passed on. Off: `fn(noop)` and nothing else.
 */
export function withSpan<T>(
  name: string,
  attrs: SpanAttributes | undefined,
  fn: (span: SpanHandle) => T,
  options?: SpanOptions,
): T {
  if (!TRACING) return fn(NOOP);
  const h = startSpan(name, attrs, options) as Handle;
  let r: T;
  try {
    r = context.with(h.ctx, fn, undefined, h);
  } catch (e) {
    h.error(e);
    h.end();
    throw e;
  }
  if (!isThenable(r)) {
    h.end();
    return r;
  }
  return (r as PromiseLike<unknown>).then((v) => {
    h.end();
    return v;
  }, (e) => {
    h.error(e);
    h.end();
    throw e;
  }) as T;
}

/**
 * An identifier cut to its first `keep` characters (`AKIAIOSF…`): enough to
 * tell callers apart in a trace, not enough to use (an access key).
 */
export function truncateId(id: string, keep = 8): string {
  return id.length <= keep ? id : `${id.slice(0, keep)}…`;
}

/** The `traceparent` of the active span, for a caller that passes it on by hand. */
export function currentTraceparent(): string | undefined {
  return TRACING ? traceparentOf() : undefined;
}

let installed = false;

/**
 * Plugs the runtime's trace hooks (done on import when tracing is on;
 * idempotent): a traced message's receive runs in its trace, untraced
 * work in none, and sends carry the sender's active span.
 */
export function installRuntimeTracing(): void {
  if (!TRACING || installed) return;
  installed = true;
  setTraceScope((tp, fn) =>
    context.with(
      tp === undefined ? ROOT_CONTEXT : contextOf(tp, ROOT_CONTEXT),
      fn,
    )
  );
  setAmbientTrace(() => traceparentOf());
}

installRuntimeTracing();
