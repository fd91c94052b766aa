/**
 * One byte channel to the inside of a kernel container (a pseudo-terminal,
 * a TCP port on the container's loopback, a service-port app), multiplexed
 * on the runner connection (images/PROTOCOL.md "Channels"). Bytes travel as
 * base64 text and are passed through untouched: the agent never decodes a
 * terminal's or an app's traffic.
 *
 * Flow control is credit based in both directions and end to end:
 * - output: the runner sends at most `window` (given at open) bytes beyond
 *   what the consumer acknowledged with {@linkcode KernelChannel.credit};
 * - input: at most {@linkcode KernelChannel.window} bytes may be written
 *   beyond what the runner acknowledged (`onCredit`). A write past that is
 *   refused with {@linkcode ChannelFlowError} and ends the channel, so a
 *   sender that ignores credit cannot grow the agent's memory.
 *
 * @module
 */
import type { ChanEvent, ChanOpenedEvent } from "./protocol.ts";

/** What a channel connects to. */
export type ChannelKind = "pty" | "tcp" | "app";

/** Options of {@linkcode KernelConnection.openChannel}. */
export interface ChannelOpenOptions {
  kind: ChannelKind;
  /** Terminal size (pty, pty apps). @default 24 x 80 */
  rows?: number;
  cols?: number;
  /** Port on 127.0.0.1 inside the container (tcp). */
  port?: number;
  /** Service-port name (app), e.g. `jupyter`. */
  app?: string;
  /** URL prefix the app is served under by the proxy (app). @default "/" */
  baseUrl?: string;
  /** Token the app should require (app). @default "" (none) */
  token?: string;
  /** Extra environment of a terminal. */
  env?: Record<string, string>;
  /** Output credit: bytes the runner may send before `credit()`. @default 262144 */
  window?: number;
}

/** What the channel reports; every callback runs synchronously on receipt. */
export interface ChannelHandlers {
  /** Bytes from inside, base64 (at most 64 KiB decoded). */
  onData(data: string): void;
  /** The runner consumed `bytes` of input: that much more may be written. */
  onCredit(bytes: number): void;
  /** The inside closed its sending side. */
  onEof(): void;
  /** The channel ended (once). */
  onClosed(reason: string, exitCode?: number): void;
}

/** A write went past the input window: the sender ignored credit. */
export class ChannelFlowError extends Error {
  override name = "ChannelFlowError";
}

/** How a channel talks to its connection (kept narrow for tests). */
export interface ChannelWire {
  send(frame: Record<string, unknown>): Promise<void>;
  forget(id: string): void;
}

/** Decoded length of a base64 text (no decoding). */
export function base64Bytes(b64: string): number {
  const pad = b64.endsWith("==") ? 2 : b64.endsWith("=") ? 1 : 0;
  return Math.max(0, Math.floor(b64.length / 4) * 3 - pad);
}

/** An open channel; made by {@linkcode KernelConnection.openChannel}. */
export class KernelChannel {
  readonly id: string;
  readonly kind: string;
  /** Input credit granted by the runner at open. */
  readonly window: number;
  /** The runner's answer to the open (port, app, started, baseUrl). */
  readonly info: ChanOpenedEvent;
  #wire: ChannelWire;
  #handlers: ChannelHandlers;
  #inFlight = 0;
  #closed = false;

  constructor(
    info: ChanOpenedEvent,
    wire: ChannelWire,
    handlers: ChannelHandlers,
  ) {
    this.id = info.chan;
    this.kind = info.kind;
    this.window = info.window;
    this.info = info;
    this.#wire = wire;
    this.#handlers = handlers;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Input bytes written and not yet acknowledged by the runner. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * Sends bytes (base64) to the inside. Past the input window the channel
   * is closed and {@linkcode ChannelFlowError} thrown.
   */
  async write(data: string): Promise<void> {
    if (this.#closed) return;
    const n = base64Bytes(data);
    if (this.#inFlight + n > this.window) {
      const why =
        `flow control violated: ${this.#inFlight} + ${n} bytes in flight exceed the window of ${this.window}`;
      // Closed here first, so the owner hears this reason, not the runner's.
      const closing = this.#wire.send({ op: "chan.close", chan: this.id });
      this._closed(why);
      await closing.catch(() => {});
      throw new ChannelFlowError(why);
    }
    this.#inFlight += n;
    await this.#wire.send({ op: "chan.data", chan: this.id, data });
  }

  /** Lets the runner send `bytes` more output. */
  credit(bytes: number): Promise<void> {
    if (this.#closed || !(bytes > 0)) return Promise.resolve();
    return this.#wire.send({
      op: "chan.credit",
      chan: this.id,
      bytes: Math.floor(bytes),
    });
  }

  /** Half-close: no more input (TCP shutdown of the write side). */
  eof(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return this.#wire.send({ op: "chan.eof", chan: this.id });
  }

  /** A terminal's new size (the foreground program gets SIGWINCH). */
  resize(rows: number, cols: number): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return this.#wire.send({ op: "chan.resize", chan: this.id, rows, cols });
  }

  /** Asks the runner to end the channel; `onClosed` follows. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return this.#wire.send({ op: "chan.close", chan: this.id }).catch(
      () => {},
    );
  }

  /** @internal a frame about this channel arrived */
  _event(ev: ChanEvent): void {
    if (this.#closed) return;
    switch (ev.ev) {
      case "chan.data":
        this.#handlers.onData(ev.data);
        break;
      case "chan.credit":
        this.#inFlight = Math.max(0, this.#inFlight - ev.bytes);
        this.#handlers.onCredit(ev.bytes);
        break;
      case "chan.eof":
        this.#handlers.onEof();
        break;
      case "chan.closed":
        this._closed(ev.reason, ev.exitCode);
        break;
    }
  }

  /** @internal the channel ended (runner said so, or the kernel died) */
  _closed(reason: string, exitCode?: number): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#wire.forget(this.id);
    this.#handlers.onClosed(reason, exitCode);
  }
}
