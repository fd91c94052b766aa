/**
 * The outbound half of the transport: tells, asks and watches for remote
 * refs, encoded and queued on the link to their node (with the destination
 * path as the ordering key, so messages to one actor keep their order even
 * when some travel in fragments). A node that is not up makes a tell a dead
 * letter and an ask fail at once; a full queue, the same.
 *
 * @module
 */

import type {
  ActorSystemApi,
  Address,
  AskOptions,
  StopReason,
  Transport,
} from "../runtime/types.ts";
import { ClusterBackpressureError, NodeUnreachableError } from "./errors.ts";
import { encodeAsk, encodeEnvelope, encodeTell } from "./framing.ts";
import type { Membership } from "./membership.ts";
import { Kind } from "./protocol.ts";
import type { RemoteAsks } from "./remote_asks.ts";
import type { WatchTable } from "./remote_watch.ts";
import type { ClusterStats } from "./stats.ts";
import { currentTraceparent } from "./trace.ts";

/** What {@link Outbound} works with. */
export interface OutboundDeps {
  readonly nodeId: string;
  readonly system: ActorSystemApi;
  readonly members: Membership;
  readonly asks: RemoteAsks;
  readonly watches: WatchTable;
  readonly stats: ClusterStats;
  readonly maxMessageBytes: number;
  readonly defaultAskTimeoutMs: number;
}

/** Sends to remote refs; see the module doc. */
export class Outbound implements Transport {
  readonly #d: OutboundDeps;

  constructor(deps: OutboundDeps) {
    this.#d = deps;
  }

  /** {@link Transport.tell}: fire and forget to a remote ref. */
  tell(to: Address, msg: unknown): void {
    if (to.node === this.#d.nodeId) {
      this.#d.system.deliver(to.path, msg);
      return;
    }
    const link = this.#d.members.linkTo(to.node);
    if (link === undefined) {
      return this.#deadLetter(to, msg, "node-unreachable");
    }
    const tp = currentTraceparent();
    const env = isTerminated(msg)
      ? encodeEnvelope(
        [Kind.TERMINATED, to.path, msg.ref.path, msg.reason, tp],
        this.#d.maxMessageBytes,
      )
      : encodeTell(to.path, msg, tp, this.#d.maxMessageBytes);
    if (!link.send(env, to.path)) {
      return this.#deadLetter(to, msg, "backpressure");
    }
    this.#d.stats.tellsOut++;
  }

  /** {@link Transport.ask}: request/response to a remote ref; fails fast when the node is not up. */
  ask(to: Address, msg: unknown, options: AskOptions = {}): Promise<unknown> {
    if (to.node === this.#d.nodeId) {
      return this.#d.system.deliverAsk(to.path, msg, options);
    }
    const link = this.#d.members.linkTo(to.node);
    if (link === undefined) {
      return Promise.reject(
        new NodeUnreachableError(to.node, to, this.#whyUnreachable(to.node)),
      );
    }
    if (options.signal?.aborted) return Promise.reject(options.signal.reason);
    const timeoutMs = Math.max(
      1,
      Math.floor(options.timeoutMs ?? this.#d.defaultAskTimeoutMs),
    );
    const id = this.#d.asks.nextId();
    let env: string;
    try {
      env = encodeAsk(
        id,
        to.path,
        msg,
        timeoutMs,
        currentTraceparent(),
        this.#d.maxMessageBytes,
      );
    } catch (err) {
      return Promise.reject(err);
    }
    if (!link.send(env, to.path)) {
      return Promise.reject(
        new ClusterBackpressureError(to.node, link.queued, link.maxQueued),
      );
    }
    this.#d.stats.asksOut++;
    return this.#d.asks.open(id, to, timeoutMs, options.signal);
  }

  /** {@link Transport.watch}: a local `watcher` watches a remote `target`. */
  watch(target: Address, watcher: Address): void {
    const m = this.#d.members.get(target.node);
    if (m === undefined || m.status === "down") {
      // Like Erlang's monitor on a dead node: Terminated right away.
      this.#d.watches.alreadyDown(target);
      return;
    }
    this.#d.watches.add(target, watcher);
    this.#d.members.linkTo(target.node)?.sendUrgent(
      encodeEnvelope([
        Kind.WATCH,
        target.path,
        watcher.path,
        currentTraceparent(),
      ]),
    );
  }

  /** {@link Transport.unwatch}. */
  unwatch(target: Address, watcher: Address): void {
    if (!this.#d.watches.remove(target, watcher)) return;
    this.#d.members.linkTo(target.node)?.sendUrgent(
      encodeEnvelope([
        Kind.UNWATCH,
        target.path,
        watcher.path,
        currentTraceparent(),
      ]),
    );
  }

  #whyUnreachable(node: string): string {
    const m = this.#d.members.get(node);
    if (m === undefined) return "unknown node";
    return m.status === "down" ? "node down" : "node unreachable";
  }

  #deadLetter(
    to: Address,
    message: unknown,
    reason: "node-unreachable" | "backpressure",
  ): void {
    this.#d.stats.deadLetters++;
    if (this.#d.members.hasListeners("deadLetter")) {
      this.#d.members.emit("deadLetter", {
        node: to.node,
        path: to.path,
        message,
        reason,
      });
    }
  }
}

function isTerminated(
  msg: unknown,
): msg is { type: "Terminated"; ref: Address; reason: StopReason } {
  if (typeof msg !== "object" || msg === null) return false;
  const m = msg as {
    type?: unknown;
    ref?: { path?: unknown };
    reason?: unknown;
  };
  return m.type === "Terminated" && typeof m.ref?.path === "string" &&
    typeof m.reason === "object";
}
