/**
 * The few assertions the cluster tests need (`@std/assert` cannot be
 * installed here: JSR is unreachable), with @std/assert's names.
 *
 * @module
 */

/** Throws when `cond` is falsy. */
export function assert(cond: unknown, msg = "assertion failed"): asserts cond {
  if (!cond) throw new Error(msg);
}

/** Deep equality through JSON-like structures. */
export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) {
    throw new Error(`${msg ? msg + ": " : ""}expected ${e}, got ${a}`);
  }
}

// deno-lint-ignore no-explicit-any
type Ctor<E> = new (...args: any[]) => E;

/** `fn` throws an instance of `cls`; returns it. */
export function assertThrows<E extends Error>(
  fn: () => unknown,
  cls: Ctor<E>,
): E {
  try {
    fn();
  } catch (err) {
    if (err instanceof cls) return err;
    throw new Error(`expected ${cls.name}, got ${err}`);
  }
  throw new Error(`expected ${cls.name} to be thrown`);
}

/** The promise rejects with an instance of `cls`; returns it. */
export async function assertRejects<E extends Error>(
  p: Promise<unknown> | (() => Promise<unknown>),
  cls: Ctor<E>,
): Promise<E> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (err) {
    if (err instanceof cls) return err;
    throw new Error(`expected ${cls.name}, got ${err}`);
  }
  throw new Error(`expected ${cls.name} rejection`);
}
