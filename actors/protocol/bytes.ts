/**
 * Finding a byte sequence in bytes (the end of an HTTP head, a resync
 * token in a stream): what `String.prototype.indexOf` is for text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { indexOfBytes } from "./bytes.ts";
 * const hay = new TextEncoder().encode("ab\r\n\r\ncd\r\n\r\n");
 * const crlf2 = new Uint8Array([13, 10, 13, 10]);
 * assert.equal(indexOfBytes(hay, crlf2), 2);
 * assert.equal(indexOfBytes(hay, crlf2, 3), 8);
 * assert.equal(indexOfBytes(hay, new Uint8Array([120])), -1);
 * ```
 *
 * @module
 */

/** Where `needle` first starts in `hay` at or after `from`, or -1. */
export function indexOfBytes(
  hay: Uint8Array,
  needle: Uint8Array,
  from = 0,
): number {
  if (needle.length === 0) return from <= hay.length ? from : -1;
  const first = needle[0];
  const last = hay.length - needle.length;
  outer: for (
    let i = hay.indexOf(first, from);
    i >= 0 && i <= last;
    i = hay.indexOf(first, i + 1)
  ) {
    for (let j = 1; j < needle.length; j++) {
      if (hay[i + j] !== needle[j]) continue outer;
    }
    return i;
  }
  return -1;
}
