/**
 * Minimal assertions with @std/assert's names (JSR cannot be reached here).
 *
 * @module
 */

/** Throws unless `cond` is truthy. */
export function assert(cond: unknown, msg = "assertion failed"): asserts cond {
  if (!cond) throw new Error(msg);
}

/** Throws if `cond` is truthy. */
export function assertFalse(
  cond: unknown,
  msg = "expected a falsy value",
): void {
  if (cond) throw new Error(msg);
}

/** Deep equality through JSON (enough for rows of plain values). */
export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) {
    throw new Error(`${msg ? msg + ": " : ""}expected ${e}, got ${a}`);
  }
}

/** Awaits `fn` and checks it rejects with an instance of `cls`; returns the error. */
export async function assertRejects<E extends Error>(
  fn: () => Promise<unknown>,
  // deno-lint-ignore no-explicit-any
  cls: new (...args: any[]) => E,
): Promise<E> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof cls) return e;
    throw new Error(
      `expected ${cls.name}, got ${
        e instanceof Error ? `${e.name}: ${e.message}` : String(e)
      }`,
    );
  }
  throw new Error(`expected ${cls.name}, but it resolved`);
}
