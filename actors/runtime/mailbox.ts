/**
 * The user lane of an actor's mailbox: a growable ring buffer of
 * (message, reply) pairs. Pushing and shifting allocate nothing once the
 * buffer has grown to the working size, which keeps `tell` cheap; the reply
 * slot is `undefined` for a plain tell, the pending ask for an ask, and a
 * trace tag for a tell that carries a trace context.
 *
 * @module
 */

import type { Reply } from "./types.ts";

/** Settles an ask: the runtime's pending asks, a transport's remote reply, or a trace tag on a tell. */
export type { Reply };

const INITIAL_CAPACITY = 4;

/** FIFO of (message, reply) pairs. */
export class Mailbox {
  /** Interleaved slots: message at 2i, reply at 2i+1. */
  #buf: unknown[];
  #mask: number;
  #head = 0;
  /** Number of queued messages. */
  size = 0;
  /** The reply of the message last returned by {@link shift}. */
  reply: Reply | undefined = undefined;

  constructor() {
    this.#buf = new Array(INITIAL_CAPACITY * 2);
    this.#mask = INITIAL_CAPACITY - 1;
  }

  /** Appends a message (and the ask it answers, if any). */
  push(msg: unknown, reply: Reply | undefined): void {
    if (this.size > this.#mask) this.#grow();
    const i = ((this.#head + this.size) & this.#mask) << 1;
    this.#buf[i] = msg;
    this.#buf[i + 1] = reply;
    this.size++;
  }

  /** Removes the oldest message and returns it; its reply lands in {@link reply}. Call only when `size > 0`. */
  shift(): unknown {
    const buf = this.#buf;
    const i = this.#head << 1;
    const msg = buf[i];
    this.reply = buf[i + 1] as Reply | undefined;
    buf[i] = undefined;
    buf[i + 1] = undefined;
    this.#head = (this.#head + 1) & this.#mask;
    this.size--;
    return msg;
  }

  /** Empties the mailbox, handing each pair to `fn` in order. */
  drain(fn: (msg: unknown, reply: Reply | undefined) => void): void {
    while (this.size > 0) {
      const msg = this.shift();
      const reply = this.reply;
      this.reply = undefined;
      fn(msg, reply);
    }
  }

  #grow(): void {
    const cap = this.#mask + 1;
    const next = new Array(cap * 4);
    for (let k = 0; k < this.size; k++) {
      const from = ((this.#head + k) & this.#mask) << 1;
      next[k << 1] = this.#buf[from];
      next[(k << 1) + 1] = this.#buf[from + 1];
    }
    this.#buf = next;
    this.#mask = cap * 2 - 1;
    this.#head = 0;
  }
}
