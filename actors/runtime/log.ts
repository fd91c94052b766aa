/**
 * How the runtime reports what it cannot throw (escalations to the
 * guardian, abandoned stops, throwing hooks). Its own module so that the
 * system and the parts it is made of share one definition without
 * importing each other.
 *
 * @module
 */

/** Severity of a runtime log line. */
export type LogLevel = "info" | "warn" | "error";

/** Where the runtime reports what it cannot throw. */
export type Logger = (
  level: LogLevel,
  message: string,
  error?: unknown,
) => void;

/** The default: `console.error` / `console.warn` / `console.info` with an `[actors]` prefix. */
export const consoleLogger: Logger = (level, message, error) => {
  const line = `[actors] ${message}`;
  if (level === "error") console.error(line, error ?? "");
  else if (level === "warn") console.warn(line, error ?? "");
  else console.info(line);
};
