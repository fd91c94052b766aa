/**
 * Demultiplexer for Docker's attach/logs stream when the container has no
 * TTY: each chunk of output is prefixed with an 8-byte header
 * `[stream, 0, 0, 0, size (uint32 BE)]`, stream 0 = stdin, 1 = stdout,
 * 2 = stderr. Transport chunks do not align with these frames, so the
 * demuxer keeps the partial header/payload between pushes.
 */

/** Which container stream a demultiplexed chunk came from. */
export type StdStream = "stdin" | "stdout" | "stderr";

/** One demultiplexed piece of output. */
export interface DemuxChunk {
  stream: StdStream;
  data: Uint8Array;
}

const STREAMS: readonly StdStream[] = ["stdin", "stdout", "stderr"];

/** Thrown when a header names a stream other than 0, 1 or 2. */
export class DemuxError extends Error {
  override name = "DemuxError";
}

/**
 * Incremental demuxer: `push(bytes)` returns the complete payloads seen so
 * far. A payload split across transport chunks is delivered in pieces as
 * they arrive (so a large output is never buffered whole).
 *
 * @example
 * ```ts
 * const d = new StreamDemuxer();
 * const chunks = d.push(new Uint8Array([1, 0, 0, 0, 0, 0, 0, 2, 104, 105]));
 * // chunks: [{ stream: "stdout", data: "hi" as bytes }]
 * ```
 */
export class StreamDemuxer {
  #header = new Uint8Array(8);
  #headerLen = 0;
  #remaining = 0;
  #stream: StdStream = "stdout";

  push(bytes: Uint8Array): DemuxChunk[] {
    const out: DemuxChunk[] = [];
    let i = 0;
    while (i < bytes.length) {
      if (this.#remaining === 0) {
        const take = Math.min(8 - this.#headerLen, bytes.length - i);
        this.#header.set(bytes.subarray(i, i + take), this.#headerLen);
        this.#headerLen += take;
        i += take;
        if (this.#headerLen < 8) break;
        this.#headerLen = 0;
        const kind = STREAMS[this.#header[0]];
        if (kind === undefined) {
          throw new DemuxError(
            `bad stream id ${this.#header[0]} in attach stream`,
          );
        }
        this.#stream = kind;
        this.#remaining = new DataView(this.#header.buffer).getUint32(4);
        continue;
      }
      const take = Math.min(this.#remaining, bytes.length - i);
      out.push({ stream: this.#stream, data: bytes.slice(i, i + take) });
      this.#remaining -= take;
      i += take;
    }
    return out;
  }

  /** True when no partial frame is pending (a clean place for EOF). */
  get idle(): boolean {
    return this.#remaining === 0 && this.#headerLen === 0;
  }
}

/** Encodes one multiplexed frame (used by tests and fakes). */
export function muxFrame(stream: StdStream, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + data.length);
  out[0] = STREAMS.indexOf(stream);
  new DataView(out.buffer).setUint32(4, data.length);
  out.set(data, 8);
  return out;
}
