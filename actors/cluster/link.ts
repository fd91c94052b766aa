/**
 * A link: one authenticated WebSocket to one peer node. Outbound, it drains
 * its {@link Outbox}: envelopes queued in a turn of the event loop leave as
 * one text frame (flushed on a microtask or when a batch fills), large
 * ones as binary fragments interleaved with the small frames, and
 * backpressure holds frames back while the socket's `bufferedAmount` is
 * above the high-water mark (fragments already above a lower mark, so that
 * small frames always find room). Inbound, it checks and parses text
 * frames, reassembles fragments, and hands the envelopes on. It knows
 * nothing of actors.
 *
 * @module
 */

import { type FragmentResult, Reassembler } from "./fragments.ts";
import {
  type DecodedFrame,
  decodeFrame,
  DEFAULT_MAX_FRAME_BYTES,
} from "./framing.ts";
import { Outbox, type OutboxOptions } from "./outbox.ts";
import type { SocketInbox } from "./socket_inbox.ts";

export { opened, SocketInbox } from "./socket_inbox.ts";

/** Options of {@link Link}. */
export interface LinkOptions extends OutboxOptions {
  /** Largest text frame accepted inbound (and produced outbound). @default {4194304} */
  maxFrameBytes?: number;
  /** Largest message (reassembled from fragments) accepted. @default {67108864} */
  maxMessageBytes?: number;
  /** Stop handing frames to the socket while its `bufferedAmount` is above this. @default {4194304} */
  highWaterBytes?: number;
  /** Stop handing fragments to the socket while its `bufferedAmount` is above this. @default {2 × fragmentBytes} */
  fragmentHighWaterBytes?: number;
  /** Bytes of large messages being reassembled at once. @default {2 × maxMessageBytes} */
  maxReassemblyBytes?: number;
  /** Large messages being reassembled at once. @default {16} */
  maxReassemblies?: number;
  /** Totals to add this link's fragment traffic to (a cluster's stats). */
  counters?: LinkCounters;
}

/** Counters a link increments (shared by all links of a cluster). */
export interface LinkCounters {
  /** Large messages sent in fragments, and received whole. */
  largeMessagesOut: number;
  largeMessagesIn: number;
  /** Fragments sent and received. */
  fragmentsOut: number;
  fragmentsIn: number;
}

/** Default of {@link LinkOptions.maxMessageBytes} (64 MiB). */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/** What a link reports to its owner. */
export interface LinkHandlers {
  /**
   * A frame arrived (possibly with problems the owner should count and
   * log); a fragment that completes no message yet arrives as a frame with
   * no envelopes (still a sign of life).
   */
  onFrame(link: Link, frame: DecodedFrame): void;
  /** The socket closed (either side). Called once. */
  onClose(link: Link, code: number, reason: string): void;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
const NO_ENVELOPES: DecodedFrame = Object.freeze({
  envelopes: [],
  invalid: 0,
  hasRefs: false,
}) as DecodedFrame;

let nextLinkId = 1;

/** One authenticated connection to a peer node. */
export class Link {
  /** Process-unique id, for logs. */
  readonly id = nextLinkId++;
  readonly maxFrameBytes: number;
  readonly maxMessageBytes: number;
  readonly #highWater: number;
  readonly #fragmentHighWater: number;
  readonly #outbox: Outbox;
  readonly #reassembler: Reassembler;
  readonly #ws: WebSocket;
  readonly #counters: LinkCounters;
  #flushScheduled = false;
  #drainTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  /** Frames sent and received (text frames and fragments), for stats. */
  framesOut = 0;
  framesIn = 0;
  /** Fragments sent and received. */
  fragmentsOut = 0;
  fragmentsIn = 0;
  /** Large messages received whole. */
  largeMessagesIn = 0;
  /** Round-trip time of the last heartbeat answered, and its moving average (ms). */
  rttMs: number | undefined = undefined;
  rttAvgMs: number | undefined = undefined;

  constructor(
    inbox: SocketInbox,
    /** Peer node id. */
    readonly peer: string,
    /** Peer incarnation (its start time) as announced in the handshake. */
    readonly incarnation: number,
    /** True when this side dialed (and so reconnects). */
    readonly dialed: boolean,
    readonly handlers: LinkHandlers,
    options: LinkOptions = {},
  ) {
    this.#ws = inbox.ws;
    this.#counters = options.counters ?? {
      largeMessagesOut: 0,
      largeMessagesIn: 0,
      fragmentsOut: 0,
      fragmentsIn: 0,
    };
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.maxMessageBytes = options.maxMessageBytes ??
      DEFAULT_MAX_MESSAGE_BYTES;
    this.#highWater = options.highWaterBytes ?? 4 * 1024 * 1024;
    // A batched text frame is measured in UTF-16 units; a unit is at most 3 bytes.
    const frameUnits = Math.floor((this.maxFrameBytes - 2) / 3);
    const fragmentBytes = Math.min(
      options.fragmentBytes ?? 262_144,
      this.maxFrameBytes - 16,
    );
    this.#outbox = new Outbox({
      ...options,
      batchBytes: Math.min(options.batchBytes ?? 65_536, frameUnits),
      fragmentThreshold: Math.min(
        options.fragmentThreshold ?? 262_144,
        frameUnits,
      ),
      fragmentBytes,
    });
    this.#fragmentHighWater = options.fragmentHighWaterBytes ??
      2 * fragmentBytes;
    this.#reassembler = new Reassembler({
      maxMessageBytes: this.maxMessageBytes,
      maxBufferedBytes: options.maxReassemblyBytes ?? 2 * this.maxMessageBytes,
      maxMessages: options.maxReassemblies ?? 16,
    });
    inbox.takeOver(
      (data) => this.#onMessage(data),
      (code, reason) => this.#onClosed(code, reason),
    );
  }

  /** Is the socket still usable? */
  get open(): boolean {
    return !this.#closed && this.#ws.readyState === WebSocket.OPEN;
  }

  /** Envelopes waiting to be written. */
  get queued(): number {
    return this.#outbox.size;
  }

  /** Bytes of large messages waiting to be written. */
  get queuedLargeBytes(): number {
    return this.#outbox.largeBytes;
  }

  /** The bound on {@link queued}. */
  get maxQueued(): number {
    return this.#outbox.small.maxQueued;
  }

  /** Large messages queued so far on this link. */
  get largeMessagesOut(): number {
    return this.#outbox.largeMessages;
  }

  /** Large messages being reassembled now. */
  get reassembling(): number {
    return this.#reassembler.inProgress;
  }

  /** Bytes of the socket's send buffer not yet written. */
  get bufferedAmount(): number {
    return this.#ws.bufferedAmount;
  }

  /**
   * Queue an encoded envelope (with the key its order is kept under, see
   * `outbox.ts`). False when the link is closed or a queue bound is reached.
   */
  send(encoded: string, key?: string): boolean {
    return this.#push(encoded, key, false);
  }

  /** Queue control traffic (heartbeats, leave, replies) even over the bound. */
  sendUrgent(encoded: string, key?: string): boolean {
    return this.#push(encoded, key, true);
  }

  #push(encoded: string, key: string | undefined, urgent: boolean): boolean {
    if (this.#closed) return false;
    const box = this.#outbox;
    const large = box.largeMessages;
    if (!box.push(encoded, key, urgent)) return false;
    if (box.largeMessages !== large) this.#counters.largeMessagesOut++;
    this.#schedule();
    return true;
  }

  /** Write what is queued now, as far as the socket takes it (used before a graceful close). */
  flush(): void {
    this.#flush();
  }

  /** Records a heartbeat's round trip. */
  recordRtt(ms: number): void {
    this.rttMs = ms;
    this.rttAvgMs = this.rttAvgMs === undefined
      ? ms
      : this.rttAvgMs + (ms - this.rttAvgMs) / 8;
  }

  /** Drops large messages that stopped arriving midway; returns how many. */
  sweepReassembly(now: number, stallMs: number): number {
    return this.#reassembler.sweep(now, stallMs);
  }

  /** Close the socket; returns how many queued envelopes were not written (lost). */
  close(code = 1000, reason = ""): number {
    const lost = this.#outbox.clear();
    if (!this.#closed) {
      try {
        this.#ws.close(code, reason.slice(0, 120));
      } catch {
        // already closing
      }
    }
    return lost;
  }

  #onMessage(data: unknown): void {
    this.framesIn++;
    if (typeof data === "string") {
      this.handlers.onFrame(this, decodeFrame(data, this.maxFrameBytes));
      return;
    }
    const bytes = data instanceof ArrayBuffer
      ? new Uint8Array(data)
      : data instanceof Uint8Array
      ? data
      : undefined;
    if (bytes === undefined) {
      this.handlers.onFrame(this, decodeFrame(data, this.maxFrameBytes));
      return;
    }
    this.fragmentsIn++;
    this.#counters.fragmentsIn++;
    const r = this.#reassembler.push(bytes, performance.now());
    this.handlers.onFrame(this, this.#fragmentFrame(r));
  }

  #fragmentFrame(r: FragmentResult): DecodedFrame {
    switch (r.kind) {
      case "partial":
        return NO_ENVELOPES;
      case "dropped":
        return {
          envelopes: [],
          invalid: 0,
          problem: "bad-fragment",
          detail: `${r.problem}: ${r.detail}`,
          hasRefs: false,
        };
      case "complete": {
        this.largeMessagesIn++;
        this.#counters.largeMessagesIn++;
        let text: string;
        try {
          text = utf8.decode(r.bytes);
        } catch {
          return {
            envelopes: [],
            invalid: 0,
            problem: "not-utf8",
            bytes: r.bytes.length,
            hasRefs: false,
          };
        }
        return decodeFrame(text, Infinity);
      }
    }
  }

  /**
   * Flush on the next microtask, even while a drain poll is pending: that
   * poll may wait on fragments only, and a small frame must not wait for it.
   */
  #schedule() {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  /** Small frames first; fragments only while the socket buffer is low, so small frames never wait long. */
  #flush() {
    const ws = this.#ws;
    const box = this.#outbox;
    while (ws.readyState === WebSocket.OPEN) {
      if (box.hasSmall) {
        if (ws.bufferedAmount > this.#highWater) return this.#waitDrain();
        ws.send(box.takeSmall()!);
        this.framesOut++;
      } else if (box.hasLarge) {
        if (ws.bufferedAmount > this.#fragmentHighWater) {
          return this.#waitDrain();
        }
        ws.send(box.takeFragment()!);
        this.framesOut++;
        this.fragmentsOut++;
        this.#counters.fragmentsOut++;
      } else return;
    }
  }

  /** No drain event on WebSocket: poll until the socket catches up. */
  #waitDrain() {
    if (this.#drainTimer !== undefined) return;
    this.#drainTimer = setTimeout(() => {
      this.#drainTimer = undefined;
      this.#flush();
    }, 1);
  }

  #onClosed(code: number, reason: string) {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#drainTimer !== undefined) clearTimeout(this.#drainTimer);
    this.#drainTimer = undefined;
    this.#reassembler.clear();
    this.handlers.onClose(this, code, reason);
  }
}
