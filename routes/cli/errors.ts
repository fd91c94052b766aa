/**
 * Failures of the client, each told in one line with its real cause: a
 * connection refused on which URL, a name that does not resolve, a TLS
 * problem, or the server's problem+json (`title` and `msg`). The client
 * prints `cli: LINE` and exits with the error's code; no stack.
 *
 * @module
 */

/** A failure the client reports as one line (and exits with `exitCode`). */
export class CliError extends Error {
  override name = "CliError";
  /** @param exitCode 2 for a usage error, 1 otherwise */
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

/**
 * Why a request to `url` did not get an answer, from what `fetch` (or a
 * WebSocket) threw. Deno reports connection failures as a `TypeError`
 * whose cause carries the transport's text (no typed cause to branch on),
 * so the known shapes of that text are told apart here, once.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeNetworkError } from "./errors.ts";
 * const e = new TypeError("fetch failed", { cause: new Error("client error (Connect): tcp connect error: Connection refused (os error 111)") });
 * assert.ok(describeNetworkError(e, "http://127.0.0.1:8081") ===
 *   "cannot reach http://127.0.0.1:8081: connection refused (is the cluster running? deno task start)");
 * ```
 */
export function describeNetworkError(err: unknown, url: string): string {
  const text = innermostText(err);
  const lower = text.toLowerCase();
  const host = hostOf(url);
  if (err instanceof DOMException && err.name === "TimeoutError") {
    return `${url} did not answer in time`;
  }
  if (lower.includes("connection refused")) {
    return `cannot reach ${url}: connection refused (is the cluster running? deno task start)`;
  }
  if (lower.includes("dns error") || lower.includes("failed to lookup")) {
    return `cannot reach ${url}: the host name ${host} does not resolve`;
  }
  if (
    lower.includes("certificate") || lower.includes("tls") ||
    lower.includes("ssl") || lower.includes("invalid peer") ||
    lower.includes("corrupt message")
  ) {
    return `cannot reach ${url}: TLS failed (${lastClause(text)})`;
  }
  if (lower.includes("connection reset") || lower.includes("broken pipe")) {
    return `${url} closed the connection (${lastClause(text)})`;
  }
  if (lower.includes("timed out")) {
    return `cannot reach ${url}: the connection timed out`;
  }
  return `cannot reach ${url}: ${lastClause(text) || "the request failed"}`;
}

function innermostText(err: unknown): string {
  let e: unknown = err;
  const parts: string[] = [];
  for (let i = 0; i < 5 && e; i++) {
    if (e instanceof Error || e instanceof DOMException) {
      parts.push(e.message);
      e = (e as Error).cause;
    } else {
      parts.push(String(e));
      break;
    }
  }
  return parts.join(": ");
}

/** The part after the last `: `-separated prefix Deno adds, without `(os error N)`. */
function lastClause(text: string): string {
  const parts = text.split(/:\s+/).filter(Boolean);
  const last = parts.at(-1) ?? text;
  return last.replace(/\s*\(os error \d+\)\s*$/, "").trim();
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return url;
  }
}

/** The JSON body of a problem reply, as far as the client reads it. */
interface Problem {
  type?: unknown;
  title?: unknown;
  msg?: unknown;
  data?: unknown;
}

/**
 * One line for an HTTP failure: status, problem name, title, msg (else the
 * gist of `data`, e.g. validation errors), or the start of a non-problem
 * body.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeHttpFailure } from "./errors.ts";
 * const line = describeHttpFailure("GET /session/x", 404, "Not Found",
 *   '{"type":"https://api.backend.ai/probs/object-not-found","title":"No such session."}');
 * assert.ok(line === "GET /session/x → 404 object-not-found: No such session.");
 * ```
 */
export function describeHttpFailure(
  request: string,
  status: number,
  statusText: string,
  body: string,
): string {
  let problem: Problem | undefined;
  try {
    const parsed = JSON.parse(body);
    if (parsed && typeof parsed === "object") problem = parsed as Problem;
  } catch { /* not JSON */ }
  if (problem && typeof problem.title === "string") {
    const name = typeof problem.type === "string"
      ? problem.type.slice(problem.type.lastIndexOf("/") + 1)
      : String(status);
    let line = `${request} → ${status} ${name}: ${problem.title}`;
    if (typeof problem.msg === "string" && problem.msg !== problem.title) {
      line += ` ${problem.msg}`;
    }
    // The msg usually says what data holds; data speaks only without one.
    const gist = typeof problem.msg === "string" ? "" : dataGist(problem.data);
    if (gist) line += ` (${gist})`;
    return line;
  }
  const text = body.trim().replace(/\s+/g, " ").slice(0, 200);
  return `${request} → ${status} ${statusText}${text ? `: ${text}` : ""}`;
}

/** `path: message` of validation errors, or a short JSON of other data. */
function dataGist(data: unknown): string {
  if (data === undefined || data === null) return "";
  if (Array.isArray(data)) {
    const items = data.slice(0, 5).map((d) => {
      const r = d as { path?: unknown; message?: unknown };
      return typeof r?.message === "string"
        ? (r.path ? `${r.path}: ${r.message}` : r.message)
        : JSON.stringify(d);
    });
    return items.join("; ") + (data.length > 5 ? "; …" : "");
  }
  const json = JSON.stringify(data);
  return json === "{}"
    ? ""
    : json.length > 200
    ? json.slice(0, 199) + "…"
    : json;
}
