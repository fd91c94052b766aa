/**
 * A `multipart/mixed` body (RFC 2046) of binary parts, as the real manager
 * answers `GET /session/{ref}/download`: one `application/octet-stream`
 * part per file, `Content-Encoding: identity` (the Python SDK checks it).
 *
 * @module
 */

const enc = new TextEncoder();

/** A body and its `Content-Type` (with the boundary). */
export interface MultipartBody {
  contentType: string;
  body: Uint8Array<ArrayBuffer>;
}

/**
 * Joins `parts` into one multipart/mixed body with a random boundary.
 *
 * @example
 * ```ts
 * import { multipartMixed } from "./multipart.ts";
 * const { contentType } = multipartMixed([new Uint8Array([1, 2])]);
 * console.assert(contentType.startsWith("multipart/mixed; boundary="));
 * ```
 */
export function multipartMixed(parts: Uint8Array[]): MultipartBody {
  const boundary = crypto.randomUUID().replace(/-/g, "");
  const chunks: Uint8Array[] = [];
  for (const p of parts) {
    chunks.push(enc.encode(
      `--${boundary}\r\nContent-Type: application/octet-stream\r\n` +
        `Content-Encoding: identity\r\nContent-Length: ${p.length}\r\n\r\n`,
    ));
    chunks.push(p, enc.encode("\r\n"));
  }
  chunks.push(enc.encode(`--${boundary}--\r\n`));
  const body = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let off = 0;
  for (const c of chunks) {
    body.set(c, off);
    off += c.length;
  }
  return { contentType: `multipart/mixed; boundary=${boundary}`, body };
}
