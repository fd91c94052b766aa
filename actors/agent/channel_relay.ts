/**
 * A KernelActor's byte channels: opens them on the runner connection and
 * relays their events to the owner ref each was opened with, as the
 * messages of actors/protocol/manager.ts (`channel.data` ...
 * `channel.closed`). The agent holds no bytes of its own: output goes to the
 * owner as it arrives (the runner sends no more than the owner's credit)
 * and input goes straight to the runner (no more than the runner's credit,
 * else the channel ends), so memory stays bounded whatever the traffic.
 *
 * @module
 */

import type { ActorRef, Address } from "../runtime/types.ts";
import type { KernelConnection } from "./kernel/connection.ts";
import { ChannelFlowError, type KernelChannel } from "./kernel/channel.ts";
import type { KernelMsg } from "../protocol/agent.ts";
import type { ChannelEvent } from "../protocol/manager.ts";
import { KernelRequestError } from "./kernel/errors.ts";

type Open = Extract<KernelMsg, { type: "channel.open" }>;

/** The answer to `channel.open`. */
export interface ChannelOpened {
  channelId: string;
  kind: string;
  /** Input credit: bytes the owner may write before its first `channel.credit`. */
  window: number;
  /** tcp/app: the container port reached. */
  port?: number;
  /** app: its name, whether this open started it, the base URL it serves under. */
  app?: string;
  started?: boolean;
  baseUrl?: string;
}

/** Channels a kernel keeps open at once (the runner's own cap is the same). */
export const MAX_CHANNELS_PER_KERNEL = 32;

/**
 * The address inside an owner field: a ref revived by the cluster, or its
 * JSON form (`{ $ref: { node, path } }`) from a local caller.
 */
export function ownerAddress(owner: unknown): Address {
  const o = owner as {
    $ref?: Address;
    node?: unknown;
    path?: unknown;
  };
  if (o?.$ref) return o.$ref;
  if (typeof o?.node === "string" && typeof o?.path === "string") {
    return { node: o.node, path: o.path };
  }
  throw new TypeError("a message without an owner ref");
}

interface Held {
  channel: KernelChannel | null;
  owner: ActorRef<ChannelEvent>;
  closed: boolean;
  /** A close asked for while the open was in progress (an app starting). */
  closeWanted?: boolean;
}

export class ChannelRelay {
  #held = new Map<string, Held>();

  constructor(
    readonly kernelId: string,
    readonly conn: KernelConnection,
    readonly refFor: (address: Address) => ActorRef<ChannelEvent>,
  ) {}

  /** Opens a channel; its events go to `msg.owner` from the first byte on. */
  async open(msg: Open): Promise<ChannelOpened> {
    if (this.#held.has(msg.channelId)) {
      throw new ChannelRefused(`channel ${msg.channelId} is already open`);
    }
    if (this.#held.size >= MAX_CHANNELS_PER_KERNEL) {
      throw new ChannelRefused(
        `at most ${MAX_CHANNELS_PER_KERNEL} channels per kernel`,
      );
    }
    const owner = this.refFor(ownerAddress(msg.owner));
    const held: Held = { channel: null, owner, closed: false };
    this.#held.set(msg.channelId, held);
    const { kernelId } = this;
    const channelId = msg.channelId;
    try {
      const ch = await this.conn.openChannel(channelId, {
        kind: msg.kind,
        rows: msg.rows,
        cols: msg.cols,
        env: msg.env,
        port: msg.port,
        app: msg.app,
        baseUrl: msg.baseUrl,
        token: msg.token,
        window: msg.window,
      }, {
        onData: (data) =>
          owner.tell({ type: "channel.data", kernelId, channelId, data }),
        onCredit: (bytes) =>
          owner.tell({ type: "channel.credit", kernelId, channelId, bytes }),
        onEof: () => owner.tell({ type: "channel.eof", kernelId, channelId }),
        onClosed: (reason, exitCode) =>
          this.#closed(channelId, reason, exitCode),
      });
      held.channel = ch;
      // The owner gave up while the app started (its open timed out): the
      // runner's channel goes at once instead of holding one of the slots.
      if (held.closeWanted) await ch.close();
      const info = ch.info;
      return {
        channelId,
        kind: info.kind,
        window: info.window,
        ...(info.port !== undefined ? { port: info.port } : {}),
        ...(info.app !== undefined ? { app: info.app } : {}),
        ...(info.started !== undefined ? { started: info.started } : {}),
        ...(info.baseUrl !== undefined ? { baseUrl: info.baseUrl } : {}),
      };
    } catch (e) {
      this.#held.delete(channelId);
      throw e;
    }
  }

  #closed(channelId: string, reason: string, exitCode?: number): void {
    const held = this.#held.get(channelId);
    if (!held || held.closed) return;
    held.closed = true;
    this.#held.delete(channelId);
    held.owner.tell({
      type: "channel.closed",
      kernelId: this.kernelId,
      channelId,
      reason,
      ...(exitCode !== undefined ? { exitCode } : {}),
    });
  }

  #channel(channelId: string): KernelChannel | undefined {
    return this.#held.get(channelId)?.channel ?? undefined;
  }

  /** Input bytes (base64); past the runner's credit the channel ends. */
  async write(channelId: string, data: string): Promise<void> {
    const ch = this.#channel(channelId);
    if (!ch) return; // closed: the owner has (or will get) channel.closed
    try {
      await ch.write(data);
    } catch (e) {
      if (e instanceof ChannelFlowError) return; // the channel ended, its owner told why
      throw e;
    }
  }

  credit(channelId: string, bytes: number): Promise<void> {
    return this.#channel(channelId)?.credit(bytes) ?? Promise.resolve();
  }

  eof(channelId: string): Promise<void> {
    return this.#channel(channelId)?.eof() ?? Promise.resolve();
  }

  resize(channelId: string, rows: number, cols: number): Promise<void> {
    return this.#channel(channelId)?.resize(rows, cols) ?? Promise.resolve();
  }

  close(channelId: string): Promise<void> {
    const held = this.#held.get(channelId);
    if (held && !held.channel) {
      held.closeWanted = true; // still opening: closed once it is open
      return Promise.resolve();
    }
    return held?.channel?.close() ?? Promise.resolve();
  }

  list(): { channelId: string; kind: string }[] {
    return [...this.#held.entries()].map(([channelId, h]) => ({
      channelId,
      kind: h.channel?.kind ?? "opening",
    }));
  }

  /** The kernel is ending: every owner hears `channel.closed` with why. */
  endAll(reason: string): void {
    for (const id of [...this.#held.keys()]) this.#closed(id, reason);
  }
}

/** A channel the agent refuses to open (duplicate id, too many): a refused request; the kernel carries on. */
export class ChannelRefused extends KernelRequestError {
  constructor(why: string) {
    super("channel.open", why);
  }
}
