/**
 * The few assertions the integration tests use, with @std/assert's names
 * (JSR cannot be reached here), built on `node:assert/strict`.
 *
 * @module
 */
import nodeAssert from "node:assert/strict";

/** Throws unless `cond` is truthy. */
export function assert(cond: unknown, msg?: string): asserts cond {
  if (!cond) throw new Error(msg ?? "assertion failed");
}

/** Deep, strict equality. */
export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  nodeAssert.deepStrictEqual(actual, expected, msg);
}

/** Deep, strict inequality. */
export function assertNotEquals<T>(actual: T, expected: T, msg?: string): void {
  nodeAssert.notDeepStrictEqual(actual, expected, msg);
}

/** Not null or undefined. */
export function assertExists<T>(
  value: T,
  msg?: string,
): asserts value is NonNullable<T> {
  if (value === null || value === undefined) {
    throw new Error(msg ?? `expected a value, got ${value}`);
  }
}

/** `text` matches `re`. */
export function assertMatch(text: string, re: RegExp, msg?: string): void {
  if (!re.test(text)) {
    throw new Error(msg ?? `${JSON.stringify(text)} does not match ${re}`);
  }
}

/** `fn` throws an instance of `ErrorClass`. */
export function assertThrows(
  fn: () => unknown,
  // deno-lint-ignore no-explicit-any
  ErrorClass: new (...args: any[]) => Error,
  _msgIncludes?: string,
  msg?: string,
): void {
  try {
    fn();
  } catch (err) {
    if (err instanceof ErrorClass) return;
    throw new Error(msg ?? `expected ${ErrorClass.name}, got ${err}`);
  }
  throw new Error(msg ?? `expected ${ErrorClass.name} to be thrown`);
}
