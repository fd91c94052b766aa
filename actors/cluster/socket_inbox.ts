/**
 * A socket before it is a link: its messages are buffered from the moment
 * it exists, so nothing is lost between the handshake's `await`s and the
 * link taking the socket over; and a wait for a dialed socket to open.
 *
 * @module
 */

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
    ws.binaryType = "arraybuffer"; // fragments; the server side defaults to Blob
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
