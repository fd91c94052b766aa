/**
 * The runner protocol on a unix socket of the kernel's own (images/PROTOCOL.md
 * "Lane"), with the container's attach beside it for stderr and for the end.
 *
 * Why: on the attached stdio every frame is copied by dockerd and by the
 * container's shim, both ways: ~250 µs of CPU, ~20 wake-ups and most of the
 * agent's ~0.45 ms per query beyond the runner's own work
 * (docs/exec_profile.md). The agent listens on `<kernel dir>/lane/runner.sock`,
 * mounted read-only at `/run/bai` in the container; the runner connects
 * before it writes anything and speaks the same frames there.
 *
 * {@link SocketLane} is an {@link AttachedStream}, so the connection on top
 * does not know which way its frames go:
 *
 * - until a runner connects, stdout of the attach is the protocol (a runner
 *   without lane support, or one that could not connect, works as before);
 *   once stdout carried protocol bytes, no connection is taken any more;
 * - one connection at a time: others are closed at once;
 * - {@link SocketLane.nextRunner} (a reset, pool/recycle.ts) drops the
 *   current connection; writes wait for the next one, which is the new
 *   runner's (nothing else is left alive in the container by then);
 * - the runner's connection ending by itself means the runner died (the
 *   runner falls back to its stdio only when its agent is gone, see
 *   runner.py: a new agent re-attaches without a lane): writes wait for a
 *   reset's new runner, or the container's end ends the stream;
 * - `read()` ends (null) when the attach ends: the container stopped.
 *
 * @module
 */
import { type AttachedStream, writeAll } from "../docker/attach.ts";
import type { DemuxChunk } from "../docker/demux.ts";

/** Where the lane dir is mounted in the container, and the socket in it. */
export const LANE_MOUNT = "/run/bai";
/** The socket's name in the lane dir. */
export const LANE_SOCKET = "runner.sock";
/** Longest socket path Linux takes (sun_path is 108 bytes with its NUL). */
const MAX_SOCKET_PATH = 107;

/** Opens the lane's listener in `dir` (created); null when the path is too long for a socket. */
export async function listenLane(
  dir: string,
): Promise<Deno.UnixListener | null> {
  const path = `${dir}/${LANE_SOCKET}`;
  if (new TextEncoder().encode(path).length > MAX_SOCKET_PATH) return null;
  await Deno.mkdir(dir, { recursive: true, mode: 0o755 });
  await Deno.remove(path).catch(() => {});
  const listener = Deno.listen({ transport: "unix", path });
  // connect(2) needs write permission on the socket; the kernel is uid 1000.
  await Deno.chmod(path, 0o666);
  return listener;
}

type Mode = "stdio" | "socket" | "awaiting";

/** See the module doc. */
export class SocketLane implements AttachedStream {
  #attach: AttachedStream;
  #listener: Deno.UnixListener;
  #mode: Mode = "stdio";
  /** A runner may still connect (no protocol on stdout yet, or a reset). */
  #expecting = true;
  #conn: Deno.UnixConn | null = null;
  /** Writes made while awaiting the next runner. */
  #held: Uint8Array[] = [];
  #queue: DemuxChunk[] = [];
  #wake: (() => void) | null = null;
  #attachEnded = false;
  /** The current connection's reader, settled at its end. */
  #socketRead: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(attach: AttachedStream, listener: Deno.UnixListener) {
    this.#attach = attach;
    this.#listener = listener;
    this.#acceptLoop();
    this.#attachLoop();
  }

  /** Whether the protocol runs on the socket now (else on the attach). */
  get onSocket(): boolean {
    return this.#mode !== "stdio";
  }

  /** Drops the runner's connection; the next one to connect is the runner (a reset). */
  nextRunner(): void {
    if (this.#mode === "stdio") return; // a stdio runner resets on stdio
    this.#mode = "awaiting";
    this.#expecting = true;
    const conn = this.#conn;
    this.#conn = null;
    try {
      conn?.close();
    } catch { /* closed */ }
  }

  async write(bytes: Uint8Array): Promise<void> {
    if (this.#mode === "stdio") return await this.#attach.write(bytes);
    if (this.#mode === "awaiting" || !this.#conn) {
      // A reset's token, before the new runner connected (or while what
      // waited is being written to it).
      this.#held.push(bytes.slice());
      return;
    }
    await writeAll(this.#conn, bytes);
  }

  async read(): Promise<DemuxChunk[] | null> {
    for (;;) {
      if (this.#queue.length > 0) return this.#queue.splice(0);
      if (this.#attachEnded) return null;
      await new Promise<void>((r) => (this.#wake = r));
      this.#wake = null;
    }
  }

  async closeWrite(): Promise<void> {
    if (this.#conn) await this.#conn.closeWrite();
    else await this.#attach.closeWrite();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const c of [this.#conn, this.#listener]) {
      try {
        c?.close();
      } catch { /* closed */ }
    }
    this.#conn = null;
    this.#attach.close();
  }

  #push(chunks: DemuxChunk[]): void {
    this.#queue.push(...chunks);
    this.#wake?.();
  }

  async #acceptLoop(): Promise<void> {
    for (;;) {
      let conn: Deno.UnixConn;
      try {
        conn = await this.#listener.accept();
      } catch {
        return; // the listener closed
      }
      if (!this.#expecting || this.#conn || this.#closed) {
        try {
          conn.close();
        } catch { /* closed */ }
        continue;
      }
      this.#expecting = false;
      this.#conn = conn;
      // What waited goes first; writes meanwhile wait behind it.
      this.#mode = "awaiting";
      this.#socketRead = this.#socketLoop(conn);
      while (this.#held.length > 0 && this.#conn === conn) {
        await writeAll(conn, this.#held.shift()!).catch(() => {});
      }
      if (this.#conn === conn) this.#mode = "socket";
    }
  }

  async #socketLoop(conn: Deno.UnixConn): Promise<void> {
    const buf = new Uint8Array(64 * 1024);
    for (;;) {
      let n: number | null;
      try {
        n = await conn.read(buf);
      } catch {
        n = null;
      }
      if (n === null) break;
      this.#push([{ stream: "stdout", data: buf.slice(0, n) }]);
    }
    if (this.#conn === conn) {
      // The runner is gone (a runner falls back to its stdio only when
      // its agent is gone, and that agent's lane with it): a reset's new
      // runner, or the container's end, comes next.
      this.#conn = null;
      this.#mode = "awaiting";
      try {
        conn.close();
      } catch { /* closed */ }
    }
  }

  async #attachLoop(): Promise<void> {
    for (;;) {
      let chunks: DemuxChunk[] | null;
      try {
        chunks = await this.#attach.read();
      } catch {
        chunks = null;
      }
      if (chunks === null) break;
      const keep = chunks.filter((c) => {
        if (c.stream !== "stdout") return true;
        if (this.#mode !== "stdio") return false; // the protocol is on the socket
        this.#expecting = false; // a runner on its stdio: no socket is taken now
        return true;
      });
      if (keep.length > 0) this.#push(keep);
    }
    // The container stopped: what its runner wrote last on the socket
    // comes first (its end follows the process's at once).
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#socketRead,
      new Promise((r) => (timer = setTimeout(r, 1000))),
    ]);
    clearTimeout(timer);
    this.#attachEnded = true;
    this.#wake?.();
  }
}
