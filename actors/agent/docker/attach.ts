/**
 * Hijacked attach to a container's stdio. `fetch` cannot take over a
 * connection after an HTTP upgrade, so this writes the request by hand on a
 * raw unix socket, reads the `101 UPGRADED` head, and then keeps the socket
 * as a duplex byte stream: writes go to the container's stdin, reads carry
 * Docker's multiplexed stdout/stderr (see demux.ts).
 */
import { DockerAttachError, DockerUnavailableError } from "./errors.ts";
import { type DemuxChunk, StreamDemuxer } from "./demux.ts";
import { indexOfBytes } from "../../protocol/bytes.ts";

/** Options of {@linkcode attachContainer}. */
export interface AttachOptions {
  /** Engine socket. @default "/var/run/docker.sock" */
  socketPath?: string;
  /** API version prefix, e.g. "1.41". */
  apiVersion: string;
  /** Also replay output produced before the attach. @default false */
  logs?: boolean;
}

/**
 * An attached container. `read()` yields demultiplexed chunks and `null` at
 * EOF (the container's stdout closed: it exited or was killed).
 */
export interface AttachedStream {
  /** Writes all bytes to the container's stdin. */
  write(bytes: Uint8Array): Promise<void>;
  /** Next demultiplexed chunks (one or more), or null at EOF. */
  read(): Promise<DemuxChunk[] | null>;
  /** Closes stdin only (half-close); output keeps flowing. */
  closeWrite(): Promise<void>;
  /** Closes the connection; idempotent. */
  close(): void;
  /**
   * A stream that carries the protocol beside the stdio (kernel/lane.ts):
   * the runner is being replaced (a reset), so its connection is dropped
   * and the next runner's is taken.
   */
  nextRunner?(): void;
  /** True while the protocol runs on such a socket (false or absent: on the stdio). */
  readonly onSocket?: boolean;
}

const CRLF2 = new Uint8Array([13, 10, 13, 10]);

/**
 * Attaches to stdin+stdout+stderr of container `id`. Attach before start to
 * be sure no output (like the runner's `ready` frame) is missed.
 */
export async function attachContainer(
  id: string,
  options: AttachOptions,
): Promise<AttachedStream> {
  const socketPath = options.socketPath ?? "/var/run/docker.sock";
  let conn: Deno.UnixConn;
  try {
    conn = await Deno.connect({ transport: "unix", path: socketPath });
  } catch (cause) {
    throw new DockerUnavailableError(socketPath, { cause });
  }
  const q = `stream=1&stdin=1&stdout=1&stderr=1${
    options.logs ? "&logs=1" : ""
  }`;
  const req =
    `POST /v${options.apiVersion}/containers/${
      encodeURIComponent(id)
    }/attach?${q} HTTP/1.1\r\n` +
    "Host: docker\r\nUpgrade: tcp\r\nConnection: Upgrade\r\nContent-Length: 0\r\n\r\n";
  try {
    await writeAll(conn, new TextEncoder().encode(req));
    // Read the response head; bytes after it already belong to the stream.
    let buf = new Uint8Array(0);
    let end = -1;
    while (end < 0) {
      const chunk = new Uint8Array(4096);
      const n = await conn.read(chunk);
      if (n === null) {
        throw new DockerAttachError(0, "connection closed before response");
      }
      const next = new Uint8Array(buf.length + n);
      next.set(buf);
      next.set(chunk.subarray(0, n), buf.length);
      buf = next;
      end = indexOfBytes(buf, CRLF2);
    }
    const head = new TextDecoder().decode(buf.subarray(0, end));
    const statusLine = head.split("\r\n")[0];
    const status = Number(statusLine.split(" ")[1]);
    if (status !== 101 && status !== 200) {
      throw new DockerAttachError(status, statusLine);
    }
    return new RawAttached(conn, buf.slice(end + 4));
  } catch (e) {
    try {
      conn.close();
    } catch { /* already closed */ }
    throw e;
  }
}

/** Writes all of `bytes` to `conn` (a write may take only part). */
export async function writeAll(
  conn: Deno.Conn,
  bytes: Uint8Array,
): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
}

class RawAttached implements AttachedStream {
  #conn: Deno.UnixConn;
  #pending: Uint8Array | null;
  #demux = new StreamDemuxer();
  #buf = new Uint8Array(64 * 1024);
  #closed = false;

  constructor(conn: Deno.UnixConn, leftover: Uint8Array) {
    this.#conn = conn;
    this.#pending = leftover.length > 0 ? leftover : null;
  }

  async write(bytes: Uint8Array): Promise<void> {
    await writeAll(this.#conn, bytes);
  }

  async read(): Promise<DemuxChunk[] | null> {
    for (;;) {
      if (this.#pending) {
        const chunks = this.#demux.push(this.#pending);
        this.#pending = null;
        if (chunks.length > 0) return chunks;
      }
      if (this.#closed) return null;
      let n: number | null;
      try {
        n = await this.#conn.read(this.#buf);
      } catch (e) {
        if (this.#closed) return null;
        if (
          e instanceof Deno.errors.ConnectionReset ||
          e instanceof Deno.errors.BadResource
        ) return null;
        throw e;
      }
      if (n === null) return null;
      const chunks = this.#demux.push(this.#buf.subarray(0, n));
      if (chunks.length > 0) return chunks;
    }
  }

  async closeWrite(): Promise<void> {
    await this.#conn.closeWrite();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch { /* already closed */ }
  }
}
