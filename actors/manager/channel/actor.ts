/**
 * The manager's channel actors: one {@link ChannelActor} per open kernel
 * channel, the owner ref the kernel tells the channel's events to
 * (`channel.data` ... `channel.closed`, validated on receipt by the
 * ChannelEvent schema node.ts registers for {@link CHANNELS_PATH}), under
 * one {@link ChannelsActor} parent. The actor hands each event to its
 * pipe (pipe.ts), which the HTTP edge reads and writes; it watches the
 * kernel, so a kernel whose node goes down (no `channel.closed` can come)
 * still ends the channel, and it stops once the channel closed.
 *
 * Channels are never restarted: a failed one is gone (its consumer sees
 * the end), like a dropped TCP connection.
 *
 * @module
 */

import {
  Actor,
  type ActorRef,
  type SupervisorStrategy,
  type Terminated,
} from "../../runtime/types.ts";
import type { KernelMsg } from "../../protocol/agent.ts";
import type { ChannelEvent } from "../../protocol/manager.ts";
import type { ChannelPipe } from "./pipe.ts";

/** Where the channel actors live (`/user/channels/CHANNEL_ID`). */
export const CHANNELS_PATH = "/user/channels";

/** Messages of the {@link ChannelsActor} (local only). */
export type ChannelsMsg = {
  type: "spawn";
  pipe: ChannelPipe;
  kernel: ActorRef<KernelMsg>;
};

/** Parent of the channel actors; answers `spawn` with the new actor's ref. */
export class ChannelsActor extends Actor<ChannelsMsg> {
  receive(msg: ChannelsMsg): ActorRef<ChannelEvent> {
    const { pipe, kernel } = msg;
    return this.ctx.spawn(() => new ChannelActor(pipe, kernel), {
      name: pipe.channelId,
    });
  }

  override supervisorStrategy(): SupervisorStrategy {
    return { kind: "one_for_one", decide: () => "stop" };
  }
}

type Own = ChannelEvent | { type: "ended" };

/** One open channel: the kernel's events in, its pipe fed. */
export class ChannelActor extends Actor<Own> {
  constructor(
    readonly pipe: ChannelPipe,
    readonly kernel: ActorRef<KernelMsg>,
  ) {
    super();
  }

  override preStart(): void {
    this.ctx.watch(this.kernel);
    const self = this.ctx.self;
    void this.pipe.closed.then(() => self.tell({ type: "ended" }));
  }

  receive(msg: Own): unknown {
    if (msg.type === "ended") return this.ctx.stop();
    if (msg.channelId !== this.pipe.channelId) return; // not this channel's
    this.pipe.onEvent(msg);
  }

  override onTerminated(t: Terminated): void {
    const r = t.reason;
    this.pipe.gone(
      r.kind === "node-down"
        ? `kernel unreachable: agent ${r.node} is down`
        : r.kind === "failure"
        ? `kernel ended: ${r.error}`
        : "kernel ended",
    );
  }

  override postStop(): void {
    this.pipe.gone("the manager closed the channel");
  }
}
