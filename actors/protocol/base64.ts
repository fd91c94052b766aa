/**
 * Base64 for bytes that travel inside JSON messages (files, media): the
 * one pair of helpers every layer uses, over the runtime's native
 * `Uint8Array.prototype.toBase64` / `Uint8Array.fromBase64`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromBase64, toBase64 } from "./base64.ts";
 * assert.equal(toBase64(new Uint8Array([1, 2, 250])), "AQL6");
 * assert.deepEqual([...fromBase64("AQL6")], [1, 2, 250]);
 * ```
 *
 * @module
 */

interface Base64Native {
  toBase64(): string;
}
interface Base64Ctor {
  fromBase64(s: string): Uint8Array<ArrayBuffer>;
}

/** Standard base64 (with padding) of `bytes`. */
export function toBase64(bytes: Uint8Array): string {
  return (bytes as unknown as Base64Native).toBase64();
}

/** The bytes of standard base64 text; throws SyntaxError on bad input. */
export function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  return (Uint8Array as unknown as Base64Ctor).fromBase64(text);
}
