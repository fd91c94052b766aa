/**
 * What kind of failure a driver error is, by its SQLSTATE or the driver's
 * connection error code (never by message text), so callers can answer a
 * client's bad value with a 4xx, an unreachable database with a 503 and a
 * full disk with a 507 instead of a bare 500.
 *
 * @module
 */
import postgres from "postgres";

/** The kinds {@link driverFailure} tells apart. */
export type DriverFailure =
  /** A value Postgres cannot take (NUL in text, out-of-range number, oversized key). */
  | "invalid-input"
  /** The server is down, restarting, refusing connections, or the link broke. */
  | "unavailable"
  /** The server's disk is full. */
  | "storage-full";

/** Connection-level codes of the `postgres` driver and of node's sockets. */
const UNAVAILABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENOTCONN",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
]);

/**
 * Classifies `e`; undefined for anything that is not a recognised driver
 * failure (a bug, a constraint the caller should have mapped).
 *
 * - class 22 (data exception: `22021` invalid byte sequence, `22P05`
 *   untranslatable `\u0000`, `22003` out of range, ...) and `54000`
 *   (program limit, e.g. an index row too large) → `invalid-input`;
 * - class 08 (connection), `57P01..03` (shutdown, cannot connect now),
 *   `53300` (too many connections), `53200` (out of memory) and the
 *   driver's socket codes → `unavailable`;
 * - `53100` (disk full) → `storage-full`.
 */
export function driverFailure(e: unknown): DriverFailure | undefined {
  if (e instanceof postgres.PostgresError) {
    const code = e.code ?? "";
    if (code.startsWith("22") || code === "54000") return "invalid-input";
    if (code === "53100") return "storage-full";
    if (
      code.startsWith("08") || code.startsWith("57P") || code === "53300" ||
      code === "53200"
    ) return "unavailable";
    return undefined;
  }
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && UNAVAILABLE_CODES.has(code)) {
      return "unavailable";
    }
  }
  return undefined;
}

let guarded = false;

/**
 * Keeps the process alive through a known crash of `postgres@3.4.9` (its
 * issues #1066, #1154, #1208; Deno issue #34667): when the server closes a
 * connection while a small write is queued, the driver's `setImmediate`
 * callback calls `socket.write` on the socket it has just set to null, and
 * the TypeError escapes every await as an uncaught exception, so a database
 * restart took the whole manager down. The connection is gone either way
 * (the driver reconnects on the next query); only this exact failure (a
 * TypeError raised in the driver's `nextWrite`) is caught, once per process,
 * everything else still crashes as it should.
 */
export function guardDriverCrash(log: (line: string) => void): void {
  if (guarded) return;
  guarded = true;
  globalThis.addEventListener("error", (e) => {
    const err = (e as ErrorEvent).error;
    if (!isQueuedWriteCrash(err)) return;
    e.preventDefault();
    log(
      "store: a database connection closed under a queued write (postgres driver bug); it reconnects",
    );
  });
}

function isQueuedWriteCrash(err: unknown): boolean {
  if (!(err instanceof TypeError) || typeof err.stack !== "string") {
    return false;
  }
  const top = err.stack.split("\n").slice(1, 3).join("\n");
  return top.includes("nextWrite") && top.includes("/postgres/") &&
    top.includes("connection.js");
}
