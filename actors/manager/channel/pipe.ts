/**
 * The manager's end of one kernel channel (actors/protocol/agent.ts
 * `channel.open`), as the {@link ChannelStream} the HTTP edge reads and
 * writes. Its channel actor (actor.ts) feeds it the kernel's events; it
 * tells the kernel writes, credit, EOF, resize and close directly.
 *
 * Flow control, both directions by credit, so memory stays bounded:
 * - output: the kernel sends at most `window` bytes beyond what was
 *   credited; a chunk is credited when the consumer asks for the next one
 *   (it has passed the previous on and waited for it to drain), gathered
 *   into credits of a quarter window. More than twice the window queued
 *   is a broken promise: the channel closes.
 * - input: writes queue and go out as the kernel's credit allows (its
 *   open's `window`, then `channel.credit` events), in pieces of at most
 *   MAX_CHANNEL_WRITE_BYTES; more than `maxQueuedInput` not yet sent
 *   (a client that outruns the kernel and cannot be paused, like a
 *   WebSocket) closes the channel.
 *
 * @module
 */

import type { ActorRef } from "../../runtime/types.ts";
import {
  type KernelMsg,
  MAX_CHANNEL_WRITE_BYTES,
} from "../../protocol/agent.ts";
import type { ChannelEvent } from "../../protocol/manager.ts";
import { fromBase64, toBase64 } from "../../protocol/base64.ts";
import type {
  ChannelEnd,
  ChannelKind,
  ChannelStream,
} from "../port/channels.ts";

/** Options of a {@link ChannelPipe}. */
export interface PipeOptions {
  channelId: string;
  kind: ChannelKind;
  sessionId: string;
  /** Output credit asked for at open. */
  window: number;
  /** Input bytes queued and not yet sent before the channel closes. @default {16 MiB} */
  maxQueuedInput?: number;
  /** How long a close waits for queued input to go out. @default {5000} */
  closeFlushMs?: number;
}

/** The kernel's answer to `channel.open` (agent channel_relay.ts `ChannelOpened`). */
export interface OpenedInfo {
  window: number;
  port?: number;
  started?: boolean;
  baseUrl?: string;
}

/** A write to a channel that has closed. */
export class ChannelClosedError extends Error {
  override name = "ChannelClosedError";
}

interface Pending {
  bytes: Uint8Array;
  resolve(): void;
  reject(e: Error): void;
}

export class ChannelPipe implements ChannelStream {
  readonly channelId: string;
  readonly kind: ChannelKind;
  readonly sessionId: string;
  port?: number;
  started?: boolean;
  baseUrl?: string;
  readonly closed: Promise<ChannelEnd>;

  readonly #kernel: ActorRef<KernelMsg>;
  readonly #window: number;
  readonly #maxQueued: number;
  readonly #flushMs: number;
  #settle!: (end: ChannelEnd) => void;
  #end?: ChannelEnd;

  // output
  #out: Uint8Array[] = [];
  #outBytes = 0;
  #outEnded = false;
  #handedOut = 0;
  #uncredited = 0;
  #wake?: () => void;

  // input
  #in: Pending[] = [];
  #inBytes = 0;
  #credit = 0;
  #opened = false;
  #eofWanted = false;
  #eofSent = false;
  #closeWanted = false;
  #closeSent = false;

  constructor(kernel: ActorRef<KernelMsg>, o: PipeOptions) {
    this.#kernel = kernel;
    this.channelId = o.channelId;
    this.kind = o.kind;
    this.sessionId = o.sessionId;
    this.#window = o.window;
    this.#maxQueued = o.maxQueuedInput ?? 16 << 20;
    this.#flushMs = o.closeFlushMs ?? 5000;
    this.closed = new Promise((r) => (this.#settle = r));
  }

  get ended(): boolean {
    return this.#outEnded;
  }

  /** Whether the channel closed (`channel.closed` or gone). */
  get isClosed(): boolean {
    return this.#end !== undefined;
  }

  /** The kernel opened it: input may flow within `info.window`. */
  opened(info: OpenedInfo): void {
    this.port = info.port;
    this.started = info.started;
    this.baseUrl = info.baseUrl;
    this.#opened = true;
    this.#credit += info.window;
    this.#flush();
  }

  /** An event of this channel (from its actor). */
  onEvent(ev: ChannelEvent): void {
    if (this.#end) return;
    switch (ev.type) {
      case "channel.data": {
        let bytes: Uint8Array;
        try {
          bytes = fromBase64(ev.data);
        } catch {
          return this.#violated("undecodable output");
        }
        if (bytes.byteLength === 0) return;
        this.#out.push(bytes);
        this.#outBytes += bytes.byteLength;
        if (this.#outBytes > 2 * this.#window + (64 << 10)) {
          return this.#violated("the kernel sent past its credit");
        }
        return this.#wakeReader();
      }
      case "channel.credit":
        this.#credit += ev.bytes;
        return this.#flush();
      case "channel.eof":
        this.#outEnded = true;
        return this.#wakeReader();
      case "channel.closed":
        return this.#ended({
          reason: ev.reason,
          ...(ev.exitCode !== undefined ? { exitCode: ev.exitCode } : {}),
        });
    }
  }

  /** The channel is gone without a `channel.closed` (kernel lost, actor stopped). */
  gone(reason: string): void {
    this.#ended({ reason });
  }

  async read(): Promise<Uint8Array | null> {
    this.#creditHandedOut();
    while (this.#out.length === 0) {
      if (this.#outEnded || this.#end) return null;
      await new Promise<void>((r) => (this.#wake = r));
    }
    const chunk = this.#out.shift()!;
    this.#outBytes -= chunk.byteLength;
    this.#handedOut = chunk.byteLength;
    return chunk;
  }

  write(bytes: Uint8Array): Promise<void> {
    const p = this.#write(bytes);
    // A caller that does not wait (a WebSocket's message handler) must not
    // turn a closed channel into an unhandled rejection.
    p.catch(() => {});
    return p;
  }

  #write(bytes: Uint8Array): Promise<void> {
    if (this.#end || this.#closeWanted || this.#eofWanted) {
      return Promise.reject(new ChannelClosedError("the channel is closed"));
    }
    if (bytes.byteLength === 0) return Promise.resolve();
    if (this.#inBytes + bytes.byteLength > this.#maxQueued) {
      this.#violated(
        `input overflow: more than ${this.#maxQueued} bytes waiting for the kernel`,
      );
      return Promise.reject(new ChannelClosedError("input overflow"));
    }
    return new Promise<void>((resolve, reject) => {
      this.#in.push({ bytes, resolve, reject });
      this.#inBytes += bytes.byteLength;
      this.#flush();
    });
  }

  eof(): void {
    if (this.#end || this.#eofWanted) return;
    this.#eofWanted = true;
    this.#flush();
  }

  resize(rows: number, cols: number): void {
    if (this.#end || !this.#opened) return;
    const clamp = (n: number) => Math.max(1, Math.min(1000, Math.trunc(n)));
    this.#kernel.tell({
      type: "channel.resize",
      channelId: this.channelId,
      rows: clamp(rows),
      cols: clamp(cols),
    });
  }

  close(): void {
    if (this.#end || this.#closeWanted) return;
    this.#closeWanted = true;
    if (this.#in.length > 0 && this.#opened) {
      // Queued input goes first, within a deadline.
      const t = setTimeout(() => this.#sendClose(), this.#flushMs);
      Deno.unrefTimer(t as unknown as number);
      this.closed.finally(() => clearTimeout(t));
    }
    this.#flush();
  }

  /** Ends at once, queued input dropped (a failed open, a violation). */
  abort(reason: string): void {
    this.#closeWanted = true;
    this.#sendClose();
    this.#ended({ reason });
  }

  #violated(why: string): void {
    this.abort(why);
  }

  #creditHandedOut(): void {
    if (this.#handedOut === 0) return;
    this.#uncredited += this.#handedOut;
    this.#handedOut = 0;
    // Batched: the kernel still holds three quarters of its window.
    if (this.#uncredited >= Math.max(1, this.#window >> 2) && !this.#end) {
      this.#kernel.tell({
        type: "channel.credit",
        channelId: this.channelId,
        bytes: Math.min(this.#uncredited, 16 << 20),
      });
      this.#uncredited = 0;
    }
  }

  #wakeReader(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }

  #flush(): void {
    if (this.#end || !this.#opened) return;
    while (this.#in.length > 0 && this.#credit > 0) {
      const head = this.#in[0];
      const n = Math.min(
        head.bytes.byteLength,
        this.#credit,
        MAX_CHANNEL_WRITE_BYTES,
      );
      const piece = n === head.bytes.byteLength
        ? head.bytes
        : head.bytes.subarray(0, n);
      this.#kernel.tell({
        type: "channel.write",
        channelId: this.channelId,
        data: toBase64(piece),
      });
      this.#credit -= n;
      this.#inBytes -= n;
      if (n === head.bytes.byteLength) {
        this.#in.shift();
        head.resolve();
      } else head.bytes = head.bytes.subarray(n);
    }
    if (this.#in.length > 0) return;
    if (this.#eofWanted && !this.#eofSent) {
      this.#eofSent = true;
      this.#kernel.tell({ type: "channel.eof", channelId: this.channelId });
    }
    if (this.#closeWanted) this.#sendClose();
  }

  #sendClose(): void {
    if (this.#closeSent || this.#end) return;
    this.#closeSent = true;
    this.#kernel.tell({ type: "channel.close", channelId: this.channelId });
  }

  #ended(end: ChannelEnd): void {
    if (this.#end) return;
    this.#end = end;
    this.#outEnded = true;
    const err = new ChannelClosedError(`the channel closed: ${end.reason}`);
    for (const p of this.#in.splice(0)) p.reject(err);
    this.#inBytes = 0;
    this.#wakeReader();
    this.#settle(end);
  }
}
