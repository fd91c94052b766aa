/**
 * A live conversation with one kernel runner over a container's attached
 * stdio (images/PROTOCOL.md). Requests carry ids; answers are matched back
 * by id. When the stream ends (the runner or its container died) every
 * pending request and run fails with {@linkcode KernelDiedError}, so no
 * caller waits forever.
 */
import type { AttachedStream } from "../docker/attach.ts";
import { fromBase64, toBase64 } from "../../protocol/base64.ts";
import {
  type AppEntry,
  type ChanEvent,
  type DirEntry,
  encodeFrame,
  FrameDecoder,
  type ReadyEvent,
  RunnerEvent,
} from "./protocol.ts";
import {
  KernelDiedError,
  KernelReadyTimeoutError,
  KernelRequestError,
  KernelStorageFullError,
  STORAGE_FULL_ERRNOS,
} from "./errors.ts";
import { KernelRun } from "./run.ts";
import { indexOfBytes } from "../../protocol/bytes.ts";
import {
  type ChannelHandlers,
  type ChannelOpenOptions,
  KernelChannel,
} from "./channel.ts";

import {
  FILE_CHUNK_BYTES,
  MAX_FILE_RANGE_BYTES as MAX_RANGE_BYTES,
} from "../../protocol/agent.ts";

/** One range of a file, from {@linkcode KernelConnection.getRange}. */
export interface FileRange {
  data: Uint8Array;
  offset: number;
  /** The whole file's size. */
  size: number;
  /** This range reaches the end of the file. */
  eof: boolean;
}

export { KernelRun };

/** Options of {@linkcode KernelConnection.open}. */
export interface KernelConnectionOptions {
  /** How long to wait for the runner's `ready`. @default 30000 */
  readyTimeoutMs?: number;
  /** Receives the runner's stderr (diagnostics). @default drop */
  onStderr?: (text: string) => void;
  /** Receives frames that fail validation (they are dropped). @default drop */
  onInvalidFrame?: (frame: unknown) => void;
}

/** Options of {@linkcode KernelConnection.exec}. */
export interface ExecOptions {
  /** @default "query" */
  mode?: "query" | "batch";
  /** Passed through as the frame's `opts` (timeoutMs, clean/build/exec ...). */
  opts?: Record<string, unknown>;
}

type Pending = {
  op: string;
  resolve: (ev: RunnerEvent) => void;
  reject: (e: Error) => void;
};

/** Connection to one runner; create it with {@linkcode KernelConnection.open}. */
export class KernelConnection {
  /** The runner's `ready` frame. */
  ready!: ReadyEvent;
  /** Resolves when the stream ended, with the reason. */
  readonly closed: Promise<KernelDiedError>;
  #stream: AttachedStream;
  #decoder = new FrameDecoder();
  #pending = new Map<string, Pending>();
  #runs = new Map<string, KernelRun>();
  #channels = new Map<string, KernelChannel>();
  #opening = new Map<string, ChannelHandlers>();
  #seq = 0;
  #prefix = crypto.randomUUID().slice(0, 8);
  #writing: Promise<void> = Promise.resolve();
  #dead: KernelDiedError | null = null;
  #onClosed!: (e: KernelDiedError) => void;
  #closedListeners = new Set<(e: KernelDiedError) => void>();
  #readyWaiter:
    | { resolve: (r: ReadyEvent) => void; reject: (e: Error) => void }
    | null = null;
  #opts: KernelConnectionOptions;
  #stderrDecoder = new TextDecoder();
  /** While resyncing after a reset: the token to skip to and the bytes seen last. */
  #sync: { token: Uint8Array; tail: Uint8Array } | null = null;
  /**
   * Set by the warm pool on a container that may serve another session:
   * then {@linkcode close} only ends what is in flight and the stream stays
   * for a reset; {@linkcode dispose} always closes.
   */
  keepOpen = false;

  private constructor(stream: AttachedStream, opts: KernelConnectionOptions) {
    this.#stream = stream;
    this.#opts = opts;
    this.closed = new Promise((r) => (this.#onClosed = r));
  }

  /**
   * Starts reading `stream` and waits for `ready`. On timeout or EOF before
   * ready the stream is closed and the error thrown.
   */
  static async open(
    stream: AttachedStream,
    options: KernelConnectionOptions = {},
  ): Promise<KernelConnection> {
    const conn = new KernelConnection(stream, options);
    const ready = new Promise<ReadyEvent>((
      resolve,
      reject,
    ) => (conn.#readyWaiter = { resolve, reject }));
    conn.#readLoop();
    const ms = options.readyTimeoutMs ?? 30_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      conn.ready = await Promise.race([
        ready,
        new Promise<never>((_, rej) => {
          timer = setTimeout(
            () => rej(new KernelReadyTimeoutError(`no ready within ${ms} ms`)),
            ms,
          );
        }),
      ]);
    } catch (e) {
      conn.close();
      throw e;
    } finally {
      clearTimeout(timer);
    }
    return conn;
  }

  /**
   * Re-attaches to a runner that is already running (an agent restarted and
   * adopts its containers): its `ready` went to the previous agent, so a
   * `ping` answered within the timeout stands in for it. Output a run wrote
   * while no agent was attached is lost; interpreter state is not.
   */
  static async reattach(
    stream: AttachedStream,
    options: KernelConnectionOptions = {},
  ): Promise<KernelConnection> {
    const conn = new KernelConnection(stream, options);
    conn.#readLoop();
    const ms = options.readyTimeoutMs ?? 5_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        conn.ping(),
        new Promise<never>((_, rej) => {
          timer = setTimeout(
            () =>
              rej(
                new KernelReadyTimeoutError(
                  `no answer to ping within ${ms} ms`,
                ),
              ),
            ms,
          );
        }),
      ]);
      conn.ready = { ev: "ready", lang: "adopted", version: "", modes: [] };
    } catch (e) {
      conn.close();
      throw e;
    } finally {
      clearTimeout(timer);
    }
    return conn;
  }

  /** Whether the runner's frames go over its lane socket (lane.ts) rather than the attached stdio. */
  get onLane(): boolean {
    return this.#stream.onSocket === true;
  }

  /** Whether the stream has ended. */
  get isDead(): boolean {
    return this.#dead !== null;
  }

  async #readLoop(): Promise<void> {
    let reason = "runner stream ended (EOF)";
    try {
      for (;;) {
        const chunks = await this.#stream.read();
        if (chunks === null) break;
        for (const c of chunks) {
          if (c.stream === "stdout") {
            const data = this.#sync ? this.#skipToToken(c.data) : c.data;
            if (data === null) continue;
            for (const frame of this.#decoder.push(data)) {
              this.#dispatch(frame);
            }
          } else if (c.stream === "stderr") {
            this.#opts.onStderr?.(
              this.#stderrDecoder.decode(c.data, { stream: true }),
            );
          }
        }
      }
    } catch (e) {
      reason = `runner stream failed: ${
        e instanceof Error ? e.message : String(e)
      }`;
    }
    this.#die(new KernelDiedError(reason));
  }

  #dispatch(frame: unknown): void {
    const parsed = RunnerEvent.safeParse(frame);
    if (!parsed.success) {
      this.#opts.onInvalidFrame?.(frame);
      return;
    }
    const ev = parsed.data;
    if (
      ev.ev === "chan.data" || ev.ev === "chan.credit" ||
      ev.ev === "chan.eof" || ev.ev === "chan.closed"
    ) {
      this.#channels.get(ev.chan)?._event(ev as ChanEvent);
      return;
    }
    if (ev.ev === "ready") {
      this.#readyWaiter?.resolve(ev);
      this.#readyWaiter = null;
      return;
    }
    const id = ev.id;
    if (id == null) return;
    const run = this.#runs.get(id);
    if (run) {
      if (ev.ev === "error") {
        this.#runs.delete(id);
        run._fail(new KernelRequestError("exec", ev.msg));
        return;
      }
      if (
        ev.ev === "out" || ev.ev === "media" || ev.ev === "html" ||
        ev.ev === "waiting-input" ||
        ev.ev === "stage" || ev.ev === "done"
      ) {
        if (ev.ev === "done") this.#runs.delete(id);
        run._push(ev);
      }
      return;
    }
    const p = this.#pending.get(id);
    if (!p) return;
    this.#pending.delete(id);
    if (ev.ev === "chan.opened") {
      // Registered here, synchronously: the channel's first data may be in
      // the same read as this answer.
      const handlers = this.#opening.get(ev.chan);
      this.#opening.delete(ev.chan);
      if (handlers) {
        this.#channels.set(
          ev.chan,
          new KernelChannel(ev, {
            send: (frame) => this.#send(frame),
            forget: (chanId) => this.#channels.delete(chanId),
          }, handlers),
        );
      }
    }
    if (ev.ev === "error") {
      p.reject(
        STORAGE_FULL_ERRNOS.has(ev.errno ?? "")
          ? new KernelStorageFullError(p.op, ev.msg)
          : new KernelRequestError(p.op, ev.msg),
      );
    } else p.resolve(ev);
  }

  /**
   * The bytes after the resync token, or null while it has not come: what a
   * previous runner wrote before it (even half a frame) is dropped.
   */
  #skipToToken(data: Uint8Array): Uint8Array | null {
    const sync = this.#sync!;
    const seen = new Uint8Array(sync.tail.length + data.length);
    seen.set(sync.tail);
    seen.set(data, sync.tail.length);
    const at = indexOfBytes(seen, sync.token);
    if (at < 0) {
      sync.tail = seen.slice(Math.max(0, seen.length - sync.token.length + 1));
      return null;
    }
    this.#sync = null;
    this.#decoder = new FrameDecoder();
    return seen.subarray(at + sync.token.length);
  }

  #die(e: KernelDiedError): void {
    if (this.#dead) return;
    this.#dead = e;
    this.#failAll(e);
    this.#stream.close();
    this.#onClosed(e);
    const listeners = [...this.#closedListeners];
    this.#closedListeners.clear();
    queueMicrotask(() => {
      for (const fn of listeners) fn(e);
    });
  }

  /**
   * Calls `fn` once the stream has ended (soon, if it has). Returns what
   * forgets it: a container that serves session after session (the warm
   * pool's reuse) would otherwise keep every past session's listener.
   */
  onClosed(fn: (e: KernelDiedError) => void): () => void {
    const dead = this.#dead;
    if (dead) {
      queueMicrotask(() => fn(dead));
      return () => {};
    }
    this.#closedListeners.add(fn);
    return () => this.#closedListeners.delete(fn);
  }

  /** Fails every request, run and channel in flight with `e`. */
  #failAll(e: KernelDiedError): void {
    this.#readyWaiter?.reject(e);
    this.#readyWaiter = null;
    for (const p of this.#pending.values()) p.reject(e);
    this.#pending.clear();
    for (const r of this.#runs.values()) r._fail(e);
    this.#runs.clear();
    for (const ch of [...this.#channels.values()]) ch._closed(e.message);
    this.#channels.clear();
    this.#opening.clear();
  }

  #nextId(): string {
    return `${this.#prefix}-${(++this.#seq).toString(36)}`;
  }

  #send(msg: Record<string, unknown>): Promise<void> {
    if (this.#dead) return Promise.reject(this.#dead);
    const bytes = encodeFrame(msg);
    const w = this.#writing.then(() => this.#stream.write(bytes));
    this.#writing = w.catch(() => {});
    return w.catch((e) => {
      throw this.#dead ??
        new KernelDiedError(
          `write failed: ${e instanceof Error ? e.message : e}`,
        );
    });
  }

  async #request(
    op: string,
    fields: Record<string, unknown>,
  ): Promise<RunnerEvent> {
    if (this.#dead) throw this.#dead;
    const id = this.#nextId();
    const answer = new Promise<RunnerEvent>((resolve, reject) =>
      this.#pending.set(id, { op, resolve, reject })
    );
    await this.#send({ op, id, ...fields });
    return await answer;
  }

  /** Starts a run; its events arrive on the returned {@linkcode KernelRun}. */
  exec(code: string, options: ExecOptions = {}): KernelRun {
    const id = this.#nextId();
    const run = new KernelRun(this, id);
    if (this.#dead) {
      run._fail(this.#dead);
      return run;
    }
    this.#runs.set(id, run);
    this.#send({
      op: "exec",
      id,
      mode: options.mode ?? "query",
      code,
      opts: options.opts ?? {},
    }).catch((e) => {
      this.#runs.delete(id);
      run._fail(e);
    });
    return run;
  }

  /** Sends the line a `waiting-input` asked for. */
  input(runId: string, text: string): Promise<void> {
    return this.#send({ op: "input", id: runId, text });
  }

  /** Interrupts a run (fire and forget; the run's `done` reports it). */
  interrupt(runId: string): Promise<void> {
    return this.#send({ op: "interrupt", id: runId });
  }

  /** Completion candidates for `code`. */
  async complete(
    code: string,
    opts: Record<string, unknown> = {},
  ): Promise<string[]> {
    const ev = await this.#request("complete", { code, opts });
    return ev.ev === "completions" ? ev.items : [];
  }

  /**
   * Writes a file under /home/work, in `FILE_CHUNK_BYTES` (protocol/agent.ts) pieces
   * (the first creates or truncates it).
   */
  async put(path: string, data: Uint8Array, mode?: number): Promise<void> {
    let offset = 0;
    do {
      const piece = data.subarray(offset, offset + FILE_CHUNK_BYTES);
      await this.putRange(path, offset, piece, mode);
      offset += piece.length;
    } while (offset < data.length);
  }

  /** Writes `data` at `offset` of a file (offset 0 creates or truncates it). */
  async putRange(
    path: string,
    offset: number,
    data: Uint8Array,
    mode?: number,
  ): Promise<void> {
    await this.#request("put", {
      path,
      data: toBase64(data),
      mode,
      ...(offset > 0 ? { offset } : {}),
    });
  }

  /** Reads a whole file under /home/work, in `FILE_CHUNK_BYTES` (protocol/agent.ts) ranges. */
  async get(path: string): Promise<Uint8Array> {
    const first = await this.getRange(path, 0, FILE_CHUNK_BYTES);
    if (first.eof) return first.data;
    const out = new Uint8Array(first.size);
    out.set(first.data);
    let offset = first.data.length;
    while (offset < first.size) {
      const r = await this.getRange(path, offset, FILE_CHUNK_BYTES);
      if (r.data.length === 0) break; // the file shrank meanwhile
      out.set(r.data.subarray(0, first.size - offset), offset);
      offset += r.data.length;
    }
    return out.subarray(0, Math.min(offset, first.size));
  }

  /** Reads up to `length` bytes (at most `MAX_FILE_RANGE_BYTES`) from `offset`. */
  async getRange(
    path: string,
    offset: number,
    length: number,
  ): Promise<FileRange> {
    const ev = await this.#request("get", {
      path,
      offset,
      length: Math.min(length, MAX_RANGE_BYTES),
    });
    if (ev.ev !== "file") {
      throw new KernelRequestError("get", `unexpected answer ${ev.ev}`);
    }
    const data = fromBase64(ev.data);
    const size = ev.size ?? data.length;
    return {
      data,
      offset: ev.offset ?? offset,
      size,
      eof: ev.eof ?? offset + data.length >= size,
    };
  }

  /** Lists a directory under /home/work. */
  async list(path = "."): Promise<DirEntry[]> {
    const ev = await this.#request("list", { path });
    if (ev.ev !== "entries") {
      throw new KernelRequestError("list", `unexpected answer ${ev.ev}`);
    }
    return ev.items;
  }

  /**
   * Opens a byte channel (images/PROTOCOL.md "Channels"): a terminal, a TCP
   * stream to a port on the container's loopback, or a service-port app
   * (started on first use). `handlers` see the channel's traffic from the
   * first byte on. Rejects with KernelRequestError when the runner cannot
   * open it (nothing listens, unknown app, the app failed to start).
   */
  async openChannel(
    chanId: string,
    options: ChannelOpenOptions,
    handlers: ChannelHandlers,
  ): Promise<KernelChannel> {
    if (this.#channels.has(chanId) || this.#opening.has(chanId)) {
      throw new KernelRequestError("chan.open", `channel ${chanId} is open`);
    }
    this.#opening.set(chanId, handlers);
    try {
      await this.#request("chan.open", { chan: chanId, ...options });
    } finally {
      this.#opening.delete(chanId);
    }
    const ch = this.#channels.get(chanId);
    if (!ch) throw this.#dead ?? new KernelDiedError("channel lost at open");
    return ch;
  }

  /** The open channel with this id, if any. */
  channel(chanId: string): KernelChannel | undefined {
    return this.#channels.get(chanId);
  }

  /** The image's service ports and whether each app runs. */
  async apps(): Promise<AppEntry[]> {
    const ev = await this.#request("apps", {});
    return ev.ev === "apps" ? ev.items : [];
  }

  /** Liveness round trip. */
  async ping(): Promise<void> {
    await this.#request("ping", {});
  }

  /**
   * Adds `env` to the runner's environment (op `env`), before the kernel's
   * first run: what a warm-pool container taken by a session gets instead
   * of the container env it was created without. Runs and their children
   * see it; a runner without the op refuses (KernelRequestError).
   */
  async setEnv(env: Record<string, string>): Promise<void> {
    await this.#request("env", { env });
  }

  /** Closes the stream; pending work fails with KernelDiedError. */
  /** Closes the stream; with {@linkcode keepOpen} only ends what is in flight. */
  close(): void {
    if (this.keepOpen && !this.#dead) {
      this.#failAll(new KernelDiedError("kernel ended"));
      return;
    }
    this.dispose();
  }

  /** Closes the stream, whatever {@linkcode keepOpen} says. */
  dispose(): void {
    this.#stream.close();
    this.#die(new KernelDiedError("connection closed by agent"));
  }

  /**
   * After the container's init reset it (images/runner/bai_init.py): ends
   * what is in flight, writes `token` to the runner's stdin (the new runner
   * skips up to it) and resolves with the new runner's `ready`, read after
   * the same token on stdout. Call before the init starts the new runner.
   */
  resync(token: Uint8Array): Promise<ReadyEvent> {
    if (this.#dead) return Promise.reject(this.#dead);
    this.#failAll(new KernelDiedError("kernel reset"));
    this.#sync = { token, tail: new Uint8Array(0) };
    this.#stream.nextRunner?.();
    const ready = new Promise<ReadyEvent>((resolve, reject) =>
      this.#readyWaiter = { resolve, reject }
    ).then((r) => (this.ready = r));
    const w = this.#writing.then(() => this.#stream.write(token));
    this.#writing = w.catch(() => {});
    return Promise.all([ready, w]).then(([r]) => r);
  }
}
