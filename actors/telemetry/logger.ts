/**
 * A structured logger: one line per event. `LOG_FORMAT=json` writes each
 * event as one JSON object (`ts`, `level`, `component`, `msg`, the event's
 * fields, `error`, and `trace_id`/`span_id` when a span — or, with tracing
 * off, a traced message — is current); the default human format is the
 * `component: message` line the processes always printed, with the fields
 * as `key=value` after it.
 *
 * {@link captureConsole} routes `console.*` through the same format, so a
 * JSON-logging process prints nothing but JSON lines, whoever logs.
 *
 * @example
 * ```ts
 * import { createLogger } from "./logger.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 *
 * const lines: string[] = [];
 * const log = createLogger("gateway", { format: "json", write: (l) => lines.push(l) });
 * log.warn("slow request", { path: "/session", ms: 812 });
 * const e = JSON.parse(lines[0]);
 * assertEquals([e.level, e.component, e.msg, e.ms], ["warn", "gateway", "slow request", 812]);
 * ```
 *
 * @module
 */

import { context, trace } from "@opentelemetry/api";
import {
  type Logger as RuntimeLogger,
  messageTraceparent,
} from "../runtime/mod.ts";
import { TRACING } from "./enabled.ts";

/** Severity of an event. */
export type Level = "debug" | "info" | "warn" | "error";

/** How lines are written. */
export type LogFormat = "json" | "human";

/** Fields of an event; an `error` field is written with its name, message and stack. */
export type LogFields = Readonly<Record<string, unknown>>;

/** Writes events of one component. */
export interface Logger {
  readonly component: string;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger of another component writing the same way. */
  child(component: string): Logger;
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** @default {"json" when LOG_FORMAT=json, else "human"} */
  format?: LogFormat;
  /** Where a finished line goes. @default {console.error or console.log by level} */
  write?: (line: string, level: Level) => void;
  /** Lowest level written. @default {"info" (LOG_LEVEL)} */
  level?: Level;
  /** Clock. @default {Date.now} */
  now?: () => number;
}

const RANK: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/** The format chosen by `LOG_FORMAT` (read once). */
export const LOG_FORMAT: LogFormat = env("LOG_FORMAT")?.toLowerCase() === "json"
  ? "json"
  : "human";

const LOG_LEVEL: Level = (() => {
  const v = env("LOG_LEVEL")?.toLowerCase();
  return v === "debug" || v === "warn" || v === "error" ? v : "info";
})();

/** Trace and span ids of the current span, or of the message being handled. */
export function currentIds(): { traceId: string; spanId: string } | undefined {
  if (TRACING) {
    const sc = trace.getSpanContext(context.active());
    if (sc !== undefined && trace.isSpanContextValid(sc)) {
      return { traceId: sc.traceId, spanId: sc.spanId };
    }
  }
  const tp = messageTraceparent();
  return tp === undefined
    ? undefined
    : { traceId: tp.slice(3, 35), spanId: tp.slice(36, 52) };
}

function errorJson(e: unknown): unknown {
  if (e instanceof Error) {
    return { name: e.name, message: e.message, stack: e.stack };
  }
  return String(e);
}

function humanValue(v: unknown): string {
  if (typeof v === "string") return /[\s"=]/.test(v) ? JSON.stringify(v) : v;
  if (v instanceof Error) return JSON.stringify(`${v.name}: ${v.message}`);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** Formats one event as a line (no newline). */
export function formatEvent(
  format: LogFormat,
  ts: number,
  level: Level,
  component: string,
  msg: string,
  fields: LogFields | undefined,
): string {
  const ids = currentIds();
  if (format === "json") {
    const o: Record<string, unknown> = {
      ts: new Date(ts).toISOString(),
      level,
      component,
      msg,
    };
    if (fields !== undefined) {
      for (const k in fields) {
        const v = fields[k];
        o[k] = k === "error" ? errorJson(v) : v;
      }
    }
    if (ids !== undefined) {
      o.trace_id = ids.traceId;
      o.span_id = ids.spanId;
    }
    try {
      return JSON.stringify(o);
    } catch {
      return JSON.stringify({ ...o, fields: "[unserializable]" });
    }
  }
  let line = component ? `${component}: ${msg}` : msg;
  let stack: string | undefined;
  if (fields !== undefined) {
    for (const k in fields) {
      const v = fields[k];
      if (k === "error" && v instanceof Error && v.stack) stack = v.stack;
      line += ` ${k}=${humanValue(v)}`;
    }
  }
  // Ids only with tracing on: then a reader can look the trace up.
  if (TRACING && ids !== undefined) {
    line += ` trace_id=${ids.traceId} span_id=${ids.spanId}`;
  }
  return stack === undefined ? line : `${line}\n${stack}`;
}

const defaultWrite = (line: string, level: Level) => {
  const out = original ?? console;
  if (level === "error" || level === "warn") out.error(line);
  else out.log(line);
};

/** A logger for `component`. */
export function createLogger(
  component: string,
  options: LoggerOptions = {},
): Logger {
  const format = options.format ?? LOG_FORMAT;
  const write = options.write ?? defaultWrite;
  const floor = RANK[options.level ?? LOG_LEVEL];
  const now = options.now ?? Date.now;
  const emit = (level: Level, msg: string, fields?: LogFields) => {
    if (RANK[level] < floor) return;
    write(formatEvent(format, now(), level, component, msg, fields), level);
  };
  return {
    component,
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    child: (c) => createLogger(c, options),
  };
}

/** The console methods before {@link captureConsole} replaced them. */
let original: Pick<Console, "log" | "error"> | undefined;

/**
 * With `format` json (the default when LOG_FORMAT=json), replaces
 * `console.log/info/warn/error/debug` so each call becomes one JSON event;
 * a leading `name: ` in the text becomes the component. Returns the undo.
 * With the human format it changes nothing.
 */
export function captureConsole(format: LogFormat = LOG_FORMAT): () => void {
  if (format !== "json" || original !== undefined) return () => {};
  const saved = {
    log: console.log,
    info: console.info,
    warn: console.warn,
    error: console.error,
    debug: console.debug,
  };
  original = { log: saved.log, error: saved.error };
  const via = (level: Level) => (...args: unknown[]) => {
    const errors = args.filter((a) => a instanceof Error);
    const text = args.filter((a) => !(a instanceof Error) && a !== "")
      .map((a) => typeof a === "string" ? a : Deno.inspect(a)).join(" ");
    const m = /^([\w.\-\[\]]{1,40}): ([\s\S]*)$/.exec(text);
    const component = m ? m[1].replace(/^\[|\]$/g, "") : "";
    const msg = m ? m[2] : text;
    const fields = errors.length > 0 ? { error: errors[0] } : undefined;
    defaultWrite(
      formatEvent("json", Date.now(), level, component, msg, fields),
      level,
    );
  };
  console.log = via("info");
  console.info = via("info");
  console.warn = via("warn");
  // The processes write every diagnostic to stderr with console.error
  // ("manager: serving on ..."): an error only when it carries an Error.
  const info = via("info"), error = via("error");
  console.error = (...args: unknown[]) =>
    (args.some((a) => a instanceof Error) ? error : info)(...args);
  console.debug = via("debug");
  return () => {
    Object.assign(console, saved);
    original = undefined;
  };
}

/** The runtime's logger hook (`ActorSystem({ logger })`) writing through `log`. */
export function runtimeLogger(log: Logger): RuntimeLogger {
  return (level, message, error) =>
    log[level](message, error === undefined ? undefined : { error });
}
