/**
 * A `multipart/form-data` body built as a stream, so an upload is read from
 * disk as it is sent (no whole file in memory) and its progress can be
 * counted (`FormData` gives neither). `fetch` sends a stream chunked.
 *
 * @module
 */

/** One file part: its name in the form and where its bytes come from. */
export interface FilePart {
  /** The file name the server stores it under (its path in the work dir). */
  filename: string;
  size: number;
  /** Opens the content (called once, when the part is reached). */
  open(): Promise<ReadableStream<Uint8Array>> | ReadableStream<Uint8Array>;
}

/** A body ready for `fetch`. */
export interface MultipartBody {
  contentType: string;
  stream: ReadableStream<Uint8Array>;
}

const encoder = new TextEncoder();

/** A file name as a quoted form-data parameter (HTML's escaping of `"`, CR, LF). */
function quoted(name: string): string {
  return `"${
    name.replaceAll("\r", "%0D").replaceAll("\n", "%0A").replaceAll('"', "%22")
  }"`;
}

/**
 * Builds the body: every part under the field name `field` (Backend.AI's
 * upload reads every file part whatever its field).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { multipartBody } from "./multipart.ts";
 * const text = new TextEncoder().encode("hi");
 * const body = multipartBody([{ filename: "a.txt", size: 2, open: () => new Blob([text]).stream() }]);
 * const form = await new Response(body.stream, { headers: { "content-type": body.contentType } }).formData();
 * assert.ok((form.get("src") as File).name === "a.txt");
 * ```
 */
export function multipartBody(
  parts: FilePart[],
  field = "src",
  boundary = `----bai-cli-${crypto.randomUUID()}`,
): MultipartBody {
  const heads = parts.map((p) =>
    encoder.encode(
      `--${boundary}\r\nContent-Disposition: form-data; name=${
        quoted(field)
      }; filename=${
        quoted(p.filename)
      }\r\nContent-Type: application/octet-stream\r\n\r\n`,
    )
  );
  const crlf = encoder.encode("\r\n");
  const tail = encoder.encode(`--${boundary}--\r\n`);
  async function* chunks(): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < parts.length; i++) {
      yield heads[i];
      let sent = 0;
      for await (const chunk of await parts[i].open()) {
        sent += chunk.byteLength;
        yield chunk;
      }
      if (sent !== parts[i].size) {
        throw new Error(
          `${
            parts[i].filename
          } changed while it was sent (${sent} bytes, expected ${
            parts[i].size
          })`,
        );
      }
      yield crlf;
    }
    yield tail;
  }
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    stream: ReadableStream.from(chunks()),
  };
}
