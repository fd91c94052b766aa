/**
 * A link: one authenticated WebSocket to one peer node. It owns the outbound
 * batching (envelopes queued in a turn of the event loop leave as one frame,
 * flushed on a microtask or when a batch fills) and the backpressure (no
 * more frames are handed to the socket while its `bufferedAmount` is above
 * the high-water mark; the queue behind it is bounded). Inbound, it checks
 * and parses frames and hands the envelopes on. It knows nothing of actors.
 *
 * @module
 */

import {
  type DecodedFrame,
  decodeFrame,
  DEFAULT_MAX_FRAME_BYTES,
  FrameQueue,
  type FrameQueueOptions,
} from "./framing.ts";

/** Options of {@link Link}. */
export interface LinkOptions extends FrameQueueOptions {
  /** Largest frame accepted inbound (and produced outbound). @default {4194304} */
  maxFrameBytes?: number;
  /** Stop handing frames to the socket while its `bufferedAmount` is above this. @default {4194304} */
  highWaterBytes?: number;
}

/** What a link reports to its owner. */
export interface LinkHandlers {
  /** A frame arrived (possibly with problems the owner should count and log). */
  onFrame(link: Link, frame: DecodedFrame): void;
  /** The socket closed (either side). Called once. */
  onClose(link: Link, code: number, reason: string): void;
}

/**
 * Buffers a socket's messages until someone takes them, so nothing is lost
 * between the handshake's `await`s and the link taking over the socket.
 */
export class SocketInbox {
  #queue: unknown[] = [];
  #waiter: ((v: IteratorResult<unknown>) => void) | undefined;
  #closed: { code: number; reason: string } | undefined;
  #listener: ((data: unknown) => void) | undefined;
  #onClose: ((code: number, reason: string) => void) | undefined;

  constructor(readonly ws: WebSocket) {
    ws.onmessage = (e) => {
      if (this.#listener) this.#listener(e.data);
      else if (this.#waiter) {
        const w = this.#waiter;
        this.#waiter = undefined;
        w({ value: e.data, done: false });
      } else this.#queue.push(e.data);
    };
    ws.onclose = (e) => {
      this.#closed = { code: e.code, reason: e.reason };
      if (this.#waiter) {
        const w = this.#waiter;
        this.#waiter = undefined;
        w({ value: undefined, done: true });
      }
      this.#onClose?.(e.code, e.reason);
    };
    ws.onerror = () => {}; // a close event follows; errors alone carry nothing useful
  }

  /** How the socket closed, once it has. */
  get closed(): { code: number; reason: string } | undefined {
    return this.#closed;
  }

  /** Next message, or undefined when the socket closed or `timeoutMs` passed first. */
  next(timeoutMs: number): Promise<unknown | undefined> {
    if (this.#queue.length) return Promise.resolve(this.#queue.shift());
    if (this.#closed) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined;
        resolve(undefined);
      }, timeoutMs);
      this.#waiter = (r) => {
        clearTimeout(timer);
        resolve(r.done ? undefined : r.value);
      };
    });
  }

  /** Hand every further message (queued ones first) and the close to the new owner. */
  takeOver(
    onMessage: (data: unknown) => void,
    onClose: (code: number, reason: string) => void,
  ): void {
    const queued = this.#queue;
    this.#queue = [];
    this.#listener = onMessage;
    this.#onClose = onClose;
    for (const m of queued) onMessage(m);
    if (this.#closed) onClose(this.#closed.code, this.#closed.reason);
  }
}

/** Wait until a dialed socket is open; false when it closed or timed out first. */
export function opened(ws: WebSocket, timeoutMs: number): Promise<boolean> {
  if (ws.readyState === WebSocket.OPEN) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(false), timeoutMs);
    const onOpen = () => done(true);
    const onClose = () => done(false);
    function done(ok: boolean) {
      clearTimeout(timer);
      ws.removeEventListener("open", onOpen);
      ws.removeEventListener("close", onClose);
      resolve(ok);
    }
    ws.addEventListener("open", onOpen);
    ws.addEventListener("close", onClose);
  });
}

let nextLinkId = 1;

/** One authenticated connection to a peer node. */
export class Link {
  /** Process-unique id, for logs. */
  readonly id = nextLinkId++;
  readonly maxFrameBytes: number;
  readonly #highWater: number;
  readonly #queue: FrameQueue;
  readonly #ws: WebSocket;
  #flushScheduled = false;
  #drainTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  /** Frames and bytes sent, for stats. */
  framesOut = 0;
  framesIn = 0;

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
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.#highWater = options.highWaterBytes ?? 4 * 1024 * 1024;
    this.#queue = new FrameQueue({
      ...options,
      batchBytes: Math.min(options.batchBytes ?? 65_536, this.maxFrameBytes),
    });
    inbox.takeOver(
      (data) => {
        this.framesIn++;
        this.handlers.onFrame(this, decodeFrame(data, this.maxFrameBytes));
      },
      (code, reason) => this.#onClosed(code, reason),
    );
  }

  /** Is the socket still usable? */
  get open(): boolean {
    return !this.#closed && this.#ws.readyState === WebSocket.OPEN;
  }

  /** Envelopes waiting to be written. */
  get queued(): number {
    return this.#queue.size;
  }

  /** The bound on {@link queued}. */
  get maxQueued(): number {
    return this.#queue.maxQueued;
  }

  /** Bytes handed to the socket but not yet written. */
  get bufferedAmount(): number {
    return this.#ws.bufferedAmount;
  }

  /** Queue an encoded envelope. False when the link is closed or the queue is full. */
  send(encoded: string): boolean {
    if (this.#closed) return false;
    if (!this.#queue.push(encoded)) return false;
    this.#schedule();
    return true;
  }

  /** Queue control traffic (heartbeats, leave, replies) even over the bound. */
  sendUrgent(encoded: string): boolean {
    if (this.#closed) return false;
    this.#queue.pushUrgent(encoded);
    this.#schedule();
    return true;
  }

  /** Write what is queued now (used before a graceful close). */
  flush(): void {
    this.#flush();
  }

  /** Close the socket; queued envelopes not yet written are returned (to count as lost). */
  close(code = 1000, reason = ""): string[] {
    const rest = this.#queue.clear();
    if (!this.#closed) {
      try {
        this.#ws.close(code, reason.slice(0, 120));
      } catch {
        // already closing
      }
    }
    return rest;
  }

  #schedule() {
    if (this.#flushScheduled || this.#drainTimer !== undefined) return;
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  #flush() {
    const ws = this.#ws;
    while (this.#queue.size > 0) {
      if (ws.readyState !== WebSocket.OPEN) return;
      if (ws.bufferedAmount > this.#highWater) {
        // No drain event on WebSocket: poll until the socket catches up.
        if (this.#drainTimer === undefined) {
          this.#drainTimer = setTimeout(() => {
            this.#drainTimer = undefined;
            this.#flush();
          }, 1);
        }
        return;
      }
      const frame = this.#queue.take()!;
      ws.send(frame);
      this.framesOut++;
    }
  }

  #onClosed(code: number, reason: string) {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#drainTimer !== undefined) clearTimeout(this.#drainTimer);
    this.#drainTimer = undefined;
    this.handlers.onClose(this, code, reason);
  }
}
