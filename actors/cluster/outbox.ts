/**
 * What a link has to send, and in which order. Small envelopes wait in a
 * {@link FrameQueue} and leave batched in text frames; an envelope larger
 * than the fragment threshold becomes an {@link OutboundMessage} that
 * leaves fragment by fragment, round robin with other large ones, and
 * small frames go ahead of fragments whenever there are any: a large
 * transfer delays heartbeats and small asks by about one fragment, not by
 * the whole message.
 *
 * Order is kept where the actor model promises it. Envelopes carry an
 * ordering key (the destination path of a tell, ask or Terminated); while
 * a large message with key K is on its way, later envelopes with key K
 * wait behind it and follow once its last fragment is out, so messages to
 * one actor arrive in the order they were sent. Envelopes without a key
 * (replies, heartbeats, watches) and those for other actors pass.
 *
 * @module
 */

import { OutboundMessage } from "./fragments.ts";
import { FrameQueue, type FrameQueueOptions } from "./framing.ts";

/** Options of {@link Outbox}. */
export interface OutboxOptions extends FrameQueueOptions {
  /** Envelopes longer than this (UTF-16 units) are fragmented. @default {262144} */
  fragmentThreshold?: number;
  /** Payload bytes per fragment. @default {262144} */
  fragmentBytes?: number;
  /** Bytes of large messages waiting to be sent; beyond it a non-urgent one is refused. @default {268435456} */
  maxQueuedBytes?: number;
}

const encoder = new TextEncoder();

type Held = string | OutboundMessage;

/** The outbound queues of one link; see the module doc. */
export class Outbox {
  readonly small: FrameQueue;
  readonly fragmentThreshold: number;
  readonly fragmentBytes: number;
  readonly maxQueuedBytes: number;
  /** Large messages being sent, round robin. */
  #active: OutboundMessage[] = [];
  #turn = 0;
  /** Keys held up by a large message in flight, with what waits behind it. */
  #held = new Map<string, Held[]>();
  #heldCount = 0;
  #largeBytes = 0;
  #nextId = 1;
  /** Large messages queued so far. */
  largeMessages = 0;

  constructor(options: OutboxOptions = {}) {
    this.small = new FrameQueue(options);
    this.fragmentThreshold = options.fragmentThreshold ?? 262_144;
    this.fragmentBytes = options.fragmentBytes ?? 262_144;
    this.maxQueuedBytes = options.maxQueuedBytes ?? 268_435_456;
  }

  /** Envelopes waiting: small ones, held ones, large ones not fully sent. */
  get size(): number {
    return this.small.size + this.#heldCount + this.#active.length;
  }

  /** Bytes of large messages not yet sent. */
  get largeBytes(): number {
    return this.#largeBytes;
  }

  get hasSmall(): boolean {
    return this.small.size > 0;
  }

  get hasLarge(): boolean {
    return this.#active.length > 0;
  }

  /**
   * Queue an encoded envelope with its ordering key. `urgent` (control
   * traffic, replies) ignores the bounds. False (nothing queued) when a
   * bound is reached.
   */
  push(encoded: string, key: string | undefined, urgent: boolean): boolean {
    if (encoded.length > this.fragmentThreshold) {
      return this.#pushLarge(encoded, key, urgent);
    }
    if (key !== undefined && this.#held.size > 0) {
      const held = this.#held.get(key);
      if (held !== undefined) {
        if (!urgent && this.size >= this.small.maxQueued) return false;
        held.push(encoded);
        this.#heldCount++;
        return true;
      }
    }
    if (!urgent && this.size >= this.small.maxQueued) return false;
    this.small.pushUrgent(encoded);
    return true;
  }

  #pushLarge(encoded: string, key: string | undefined, urgent: boolean) {
    if (
      !urgent &&
      (this.size >= this.small.maxQueued ||
        this.#largeBytes + encoded.length > this.maxQueuedBytes)
    ) return false;
    // A one-envelope frame, so the receiver decodes it like any frame.
    const bytes = encoder.encode("[" + encoded + "]");
    const m = new OutboundMessage(
      this.#nextId,
      bytes,
      this.fragmentBytes,
      key,
    );
    this.#nextId = (this.#nextId + 1) >>> 0 || 1;
    this.#largeBytes += bytes.length;
    this.largeMessages++;
    if (key !== undefined) {
      const held = this.#held.get(key);
      if (held !== undefined) {
        held.push(m);
        this.#heldCount++;
        return true;
      }
      this.#held.set(key, []);
    }
    this.#active.push(m);
    return true;
  }

  /** The next text frame of small envelopes, if any. */
  takeSmall(): string | undefined {
    return this.small.take();
  }

  /** The next fragment, taking large messages in turn, if any. */
  takeFragment(): Uint8Array | undefined {
    const active = this.#active;
    if (active.length === 0) return undefined;
    if (this.#turn >= active.length) this.#turn = 0;
    const m = active[this.#turn];
    const before = m.remaining;
    const frame = m.next();
    this.#largeBytes -= before - m.remaining;
    if (m.done) {
      active.splice(this.#turn, 1);
      if (m.key !== undefined) this.#release(m.key);
    } else this.#turn++;
    return frame;
  }

  /** The large message holding `key` is out: what waited behind it follows, in order. */
  #release(key: string): void {
    const held = this.#held.get(key)!;
    while (held.length > 0) {
      const item = held.shift()!;
      this.#heldCount--;
      if (typeof item === "string") this.small.pushUrgent(item);
      else {
        this.#active.push(item); // the key stays held, behind this one
        return;
      }
    }
    this.#held.delete(key);
  }

  /** Drops everything; returns how many envelopes were dropped. */
  clear(): number {
    const n = this.size;
    this.small.clear();
    this.#active = [];
    this.#held.clear();
    this.#heldCount = 0;
    this.#largeBytes = 0;
    return n;
  }
}
