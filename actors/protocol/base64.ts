/**
 * Base64 for bytes that travel inside JSON messages (files, media), and
 * its URL-safe unpadded form for tokens (app proxy, storage, web
 * sessions): the helpers every layer uses, over the runtime's native
 * `Uint8Array.prototype.toBase64` / `Uint8Array.fromBase64`. (The cluster
 * transport keeps its own copy: it may import nothing of the domain.)
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromBase64, fromBase64Url, toBase64, toBase64Url } from "./base64.ts";
 * assert.equal(toBase64(new Uint8Array([1, 2, 250])), "AQL6");
 * assert.deepEqual([...fromBase64("AQL6")], [1, 2, 250]);
 * assert.equal(toBase64Url(new Uint8Array([251, 255])), "-_8");
 * assert.deepEqual([...fromBase64Url("-_8")!], [251, 255]);
 * assert.equal(fromBase64Url("a+b="), undefined);
 * ```
 *
 * @module
 */

interface Base64Options {
  alphabet?: "base64" | "base64url";
  omitPadding?: boolean;
}
interface Base64Native {
  toBase64(options?: Base64Options): string;
}
interface Base64Ctor {
  fromBase64(s: string, options?: Base64Options): Uint8Array<ArrayBuffer>;
}

/** Standard base64 (with padding) of `bytes`. */
export function toBase64(bytes: Uint8Array): string {
  return (bytes as unknown as Base64Native).toBase64();
}

/** The bytes of standard base64 text; throws SyntaxError on bad input. */
export function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  return (Uint8Array as unknown as Base64Ctor).fromBase64(text);
}

/** URL-safe base64 without padding (RFC 4648 §5) of `bytes`, as tokens carry it. */
export function toBase64Url(bytes: Uint8Array): string {
  return (bytes as unknown as Base64Native).toBase64({
    alphabet: "base64url",
    omitPadding: true,
  });
}

/**
 * The bytes of unpadded base64url text, or undefined for text that is not
 * (anything but `A–Z a–z 0–9 - _`, or a length no encoding has).
 */
export function fromBase64Url(
  text: string,
): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  try {
    return (Uint8Array as unknown as Base64Ctor).fromBase64(text, {
      alphabet: "base64url",
    });
  } catch {
    return undefined;
  }
}
