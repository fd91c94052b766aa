/**
 * The few assertions the runtime tests need, with @std/assert's names
 * (JSR is unreachable here, so @std/assert cannot be installed).
 *
 * @module
 */

/** Throws when `cond` is falsy. */
export function assert(cond: unknown, msg = "assertion failed"): asserts cond {
  if (!cond) throw new Error(msg);
}

/** Structural equality through JSON-like values. */
export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) {
    throw new Error(`${msg ? msg + ": " : ""}expected ${e}, got ${a}`);
  }
}

/** Asserts `value` is an instance of `klass` and narrows it. */
export function assertInstanceOf<T>(
  value: unknown,
  // deno-lint-ignore no-explicit-any
  klass: new (...args: any[]) => T,
  msg?: string,
): asserts value is T {
  if (!(value instanceof klass)) {
    throw new Error(
      msg ?? `expected an instance of ${klass.name}, got ${String(value)}`,
    );
  }
}

/** Awaits `p`, asserts it rejects with an instance of `klass`, returns the error. */
export async function assertRejects<T>(
  p: Promise<unknown> | (() => Promise<unknown>),
  // deno-lint-ignore no-explicit-any
  klass: new (...args: any[]) => T,
): Promise<T> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    assertInstanceOf(e, klass);
    return e;
  }
  throw new Error(`expected a rejection with ${klass.name}`);
}

/** Asserts `fn` throws an instance of `klass` and returns the error. */
export function assertThrows<T>(
  fn: () => unknown,
  // deno-lint-ignore no-explicit-any
  klass: new (...args: any[]) => T,
): T {
  try {
    fn();
  } catch (e) {
    assertInstanceOf(e, klass);
    return e;
  }
  throw new Error(`expected ${klass.name} to be thrown`);
}

/** A promise with its resolver exposed, for tests that release work by hand. */
export function gate<T = void>(): {
  promise: Promise<T>;
  open: (v: T) => void;
} {
  const { promise, resolve } = Promise.withResolvers<T>();
  return { promise, open: resolve };
}

/** A logger for tests: keeps lines instead of printing them. */
export function quietLogger(): {
  lines: { level: string; message: string }[];
  logger: (level: "info" | "warn" | "error", message: string) => void;
} {
  const lines: { level: string; message: string }[] = [];
  return { lines, logger: (level, message) => lines.push({ level, message }) };
}

/** Resolves after every queued microtask and one macrotask turn ran. */
export function settle(): Promise<void> {
  return new Promise((r) => setTimeout(r, 0));
}

/** Polls `cond` on macrotask turns until true; fails after `maxTurns`. */
export async function until(
  cond: () => boolean,
  what = "condition",
  maxTurns = 2000,
): Promise<void> {
  for (let i = 0; i < maxTurns; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 1));
  }
  throw new Error(`timed out waiting for ${what}`);
}
