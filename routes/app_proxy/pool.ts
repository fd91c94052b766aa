/**
 * Idle kernel channels of the app proxy, kept for the next request to the
 * same app of the same session and keypair (HTTP/1.1 keep-alive over the
 * channel): a browser loading a notebook asks for dozens of files, and a
 * fresh channel per request would cost an open (and a connect inside the
 * kernel) each. An idle channel is closed after a while, and one the app
 * closed meanwhile is never handed out.
 *
 * @module
 */

import type { ChannelStream } from "../../actors/manager/port/mod.ts";
import { StreamReader } from "./http1.ts";

/** A channel with the reader that owns its buffered bytes. */
export interface Conn {
  channel: ChannelStream;
  reader: StreamReader;
}

/** Options of a {@link ChannelPool}. */
export interface PoolOptions {
  /** An idle channel is closed after this long. @default {15000} */
  idleMs?: number;
  /** Idle channels kept per key. @default {4} */
  maxIdle?: number;
}

interface Idle {
  conn: Conn;
  timer: ReturnType<typeof setTimeout>;
}

export class ChannelPool {
  #idle = new Map<string, Idle[]>();
  readonly #idleMs: number;
  readonly #maxIdle: number;

  constructor(options: PoolOptions = {}) {
    this.#idleMs = options.idleMs ?? 15_000;
    this.#maxIdle = options.maxIdle ?? 4;
  }

  /** An idle channel of `key` (reused: true), or a fresh one from `open`. */
  async acquire(
    key: string,
    open: () => Promise<ChannelStream>,
  ): Promise<{ conn: Conn; reused: boolean }> {
    const list = this.#idle.get(key);
    while (list && list.length > 0) {
      const { conn, timer } = list.pop()!;
      clearTimeout(timer);
      if (!conn.channel.ended) return { conn, reused: true };
      conn.channel.close();
    }
    if (list?.length === 0) this.#idle.delete(key);
    const channel = await open();
    return {
      conn: { channel, reader: new StreamReader(channel) },
      reused: false,
    };
  }

  /** Gives a channel back after a response: kept if it can carry another. */
  release(key: string, conn: Conn, reusable: boolean): void {
    const list = this.#idle.get(key) ?? [];
    if (
      !reusable || conn.channel.ended || conn.reader.buffered > 0 ||
      list.length >= this.#maxIdle
    ) {
      conn.channel.close();
      return;
    }
    const timer = setTimeout(() => {
      const l = this.#idle.get(key);
      const i = l?.findIndex((x) => x.conn === conn) ?? -1;
      if (l && i >= 0) l.splice(i, 1);
      if (l?.length === 0) this.#idle.delete(key);
      conn.channel.close();
    }, this.#idleMs);
    Deno.unrefTimer(timer as unknown as number);
    list.push({ conn, timer });
    this.#idle.set(key, list);
  }

  /** Closes every idle channel (shutdown, tests). */
  closeAll(): void {
    for (const list of this.#idle.values()) {
      for (const { conn, timer } of list) {
        clearTimeout(timer);
        conn.channel.close();
      }
    }
    this.#idle.clear();
  }
}
