/**
 * The cluster: plugs into an actor system as its {@link Transport} and makes
 * refs location-transparent across Deno processes. It accepts peers (a
 * standalone `Deno.serve` listener, or {@link Cluster.acceptUpgrade} mounted
 * in an existing HTTP app) and dials out (agents dial the manager, so NAT is
 * no obstacle); once a link is up it is symmetric.
 *
 * This file is the public face and the outbound half of the transport
 * (encoding tells, asks and watches onto the right link). The other jobs
 * live beside it:
 *
 * | file | job |
 * |------|-----|
 * | `peers.ts` | accepting, dialing, handshakes, redialing with backoff |
 * | `liveness.ts` | up / unreachable / down, heartbeats, RTT, the failure detector |
 * | `inbound.ts` | frames in: checks, delivery, replies, watch traffic |
 * | `remote_asks.ts` | asks waiting for a peer's answer |
 * | `remote_watch.ts` | death watch across nodes |
 * | `link.ts`, `outbox.ts`, `fragments.ts` | one socket: batching, large messages in fragments, backpressure |
 *
 * @module
 */

import type {
  ActorSystemApi,
  Address,
  AskOptions,
  Transport,
} from "../runtime/types.ts";
import type { BackoffOptions } from "./backoff.ts";
import type { FailureDetectorOptions } from "./failure_detector.ts";
import { DEFAULT_MAX_FRAME_BYTES, encodeEnvelope } from "./framing.ts";
import { DEFAULT_WINDOW_MS, importSecret, NonceCache } from "./handshake.ts";
import { Inbound } from "./inbound.ts";
import { DEFAULT_MAX_MESSAGE_BYTES, type LinkOptions } from "./link.ts";
import { Liveness } from "./liveness.ts";
import {
  type ClusterEvents,
  type MemberInfo,
  Membership,
} from "./membership.ts";
import { type ListenInfo, Peers } from "./peers.ts";
import { CLOSE_LEAVE, Kind } from "./protocol.ts";
import { Outbound } from "./outbound.ts";
import { RemoteAsks } from "./remote_asks.ts";
import { WatchTable } from "./remote_watch.ts";
import { type MessageSchema, SchemaRegistry } from "./schemas.ts";
import {
  type ClusterLog,
  type ClusterStats,
  newStats,
  type PeerInfo,
  rateLimited,
} from "./stats.ts";

export type { ListenInfo } from "./peers.ts";
export type { ClusterStats, PeerInfo } from "./stats.ts";

/** Options of {@link Cluster}. */
export interface ClusterOptions {
  /** Must equal the actor system's `nodeId` (checked); defaults to it. */
  nodeId?: string;
  /** Shared cluster secret; never sent, only used to MAC the handshake. */
  secret: string;
  /** This process's incarnation; a restart must pick a new one. @default {Date.now()} */
  incarnation?: number;
  /** Heartbeat interval. @default {1000} */
  heartbeatMs?: number;
  /** Failure detector tuning; `firstHeartbeatEstimateMs` defaults to `heartbeatMs`. */
  failureDetector?: FailureDetectorOptions;
  /** Largest text frame sent or accepted. @default {4194304} (4 MiB) */
  maxFrameBytes?: number;
  /**
   * Largest single message (its encoded envelope), sent in fragments when
   * it is over `fragmentThreshold`; a larger one throws
   * `FrameTooLargeError` at the sender and is refused by a receiver.
   * @default {67108864} (64 MiB)
   */
  maxMessageBytes?: number;
  /** Envelopes longer than this (UTF-16 units) travel in fragments. @default {262144} */
  fragmentThreshold?: number;
  /** Payload bytes per fragment. @default {262144} */
  fragmentBytes?: number;
  /** A large message whose fragments stop arriving for this long is dropped. @default {30000} */
  reassemblyStallMs?: number;
  /** Socket `bufferedAmount` above which frames wait. @default {4194304} */
  highWaterBytes?: number;
  /** Outbound envelopes queued per link before tells become dead letters and asks fail. @default {200000} */
  maxQueued?: number;
  /** Bytes of large messages queued per link before the same happens. @default {268435456} */
  maxQueuedBytes?: number;
  /** Bytes per batched frame. @default {65536} */
  batchBytes?: number;
  /** Envelopes per batched frame. @default {4096} */
  batchCount?: number;
  /** Handshake must finish within this. @default {5000} */
  handshakeTimeoutMs?: number;
  /** Accepted clock difference (and nonce memory) of the handshake. @default {30000} */
  clockWindowMs?: number;
  /** Reconnect backoff of dialed links. */
  reconnect?: BackoffOptions;
  /** Default ask timeout when the caller gives none. @default {5000} */
  defaultAskTimeoutMs?: number;
  /** Where warnings go. @default console.error with a `[cluster NODE]` prefix */
  log?: ClusterLog;
}

/** Location transparency for an {@link ActorSystemApi} over authenticated WebSockets. */
export class Cluster implements Transport {
  readonly nodeId: string;
  readonly incarnation: number;
  readonly stats: ClusterStats = newStats();

  readonly #system: ActorSystemApi;
  readonly #members: Membership;
  readonly #schemas = new SchemaRegistry();
  readonly #asks = new RemoteAsks();
  readonly #watches: WatchTable;
  readonly #liveness: Liveness;
  readonly #peers: Peers;
  readonly #outbound: Outbound;
  #ticker: ReturnType<typeof setInterval> | undefined;
  #closing = false;

  constructor(system: ActorSystemApi, options: ClusterOptions) {
    this.#system = system;
    this.nodeId = options.nodeId ?? system.nodeId;
    if (this.nodeId !== system.nodeId) {
      throw new TypeError(
        `cluster nodeId ${this.nodeId} differs from the actor system's ${system.nodeId}`,
      );
    }
    this.incarnation = options.incarnation ?? Date.now();
    const heartbeatMs = options.heartbeatMs ?? 1000;
    const maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    const maxMessageBytes = options.maxMessageBytes ??
      Math.max(DEFAULT_MAX_MESSAGE_BYTES, maxFrameBytes);
    const log: ClusterLog = options.log ??
      ((level, msg) =>
        console.error(`[cluster ${this.nodeId}] ${level}: ${msg}`));
    this.#members = new Membership({
      firstHeartbeatEstimateMs: heartbeatMs,
      ...options.failureDetector,
    });
    this.#watches = new WatchTable(system);
    this.#liveness = new Liveness({
      members: this.#members,
      asks: this.#asks,
      watches: this.#watches,
      stats: this.stats,
      log,
      redial: (link, why) => this.#peers.redial(link, why),
      reassemblyStallMs: options.reassemblyStallMs ?? 30_000,
    });
    const inbound = new Inbound({
      system,
      members: this.#members,
      schemas: this.#schemas,
      asks: this.#asks,
      watches: this.#watches,
      liveness: this.#liveness,
      stats: this.stats,
      maxMessageBytes,
      warn: rateLimited(log),
    });
    const linkOptions: LinkOptions = {
      maxFrameBytes,
      maxMessageBytes,
      highWaterBytes: options.highWaterBytes,
      maxQueued: options.maxQueued,
      maxQueuedBytes: options.maxQueuedBytes,
      batchBytes: options.batchBytes,
      batchCount: options.batchCount,
      fragmentThreshold: options.fragmentThreshold,
      fragmentBytes: options.fragmentBytes,
      counters: this.stats,
    };
    const key = importSecret(options.secret);
    key.catch(() => {}); // surfaced by the first handshake
    const clockWindowMs = options.clockWindowMs ?? DEFAULT_WINDOW_MS;
    this.#peers = new Peers({
      nodeId: this.nodeId,
      incarnation: this.incarnation,
      key,
      nonces: new NonceCache(clockWindowMs),
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? 5000,
      clockWindowMs,
      reconnect: options.reconnect ?? {},
      linkOptions,
      handlers: {
        onFrame: (link, frame) => inbound.onFrame(link, frame),
        onClose: (link, code, reason) =>
          this.#liveness.linkClosed(link, code, reason),
      },
      members: this.#members,
      stats: this.stats,
      log,
      closing: () => this.#closing,
      onLink: (link) => this.#liveness.linkUp(link),
    });
    this.#outbound = new Outbound({
      nodeId: this.nodeId,
      system,
      members: this.#members,
      asks: this.#asks,
      watches: this.#watches,
      stats: this.stats,
      maxMessageBytes,
      defaultAskTimeoutMs: options.defaultAskTimeoutMs ?? 5000,
    });
    system.setTransport(this);
    this.#ticker = setInterval(
      () => {
        this.#liveness.tick();
        inbound.refreshTraceContext();
      },
      Math.max(10, Math.floor(heartbeatMs / 2)),
    );
  }

  // ---------------------------------------------------------------- public API

  /**
   * Standalone listener for nodes without an HTTP app. Serves the upgrade on
   * `path` (default `/cluster`) on `hostname` (default loopback; pass
   * `0.0.0.0` to accept agents from other machines), 404 elsewhere.
   */
  listen(
    options: { port?: number; hostname?: string; path?: string } = {},
  ): Promise<ListenInfo> {
    return this.#peers.listen(options);
  }

  /**
   * Accept a peer on an HTTP request (mount this in a Hono route:
   * `app.get("/cluster", (c) => cluster.acceptUpgrade(c.req.raw))`).
   * Answers 426 when the request is not a WebSocket upgrade.
   */
  acceptUpgrade(req: Request): Response {
    return this.#peers.acceptUpgrade(req);
  }

  /**
   * Dial a peer and keep the link up: on loss it reconnects with exponential
   * backoff and jitter until {@link close}. Resolves with the peer's node id
   * once the first handshake succeeds. Rejects with
   * {@link HandshakeRefusedError} when the peer refuses for a reason retrying
   * cannot fix (wrong secret, protocol, self); then it stops dialing. Also
   * rejects (with {@link NodeUnreachableError}) when the cluster is closed
   * before the first handshake succeeded.
   */
  dial(url: string): Promise<string> {
    return this.#peers.dial(url);
  }

  /** Validate messages arriving for `pathPrefix` (and below) with `schema`. Returns an unregister function. */
  registerSchema(pathPrefix: string, schema: MessageSchema): () => void {
    return this.#schemas.register(pathPrefix, schema);
  }

  /** Observe membership changes, refusals and remote dead letters. Returns an unsubscribe function. */
  on<K extends keyof ClusterEvents>(
    event: K,
    fn: (e: ClusterEvents[K]) => void,
  ): () => void {
    return this.#members.on(event, fn);
  }

  /** Known members (this node excluded). */
  members(): MemberInfo[] {
    return this.#members.snapshot();
  }

  /**
   * Known members with what a metrics collector samples: the round-trip
   * time of heartbeats on the link in use, reconnects, queues.
   */
  peers(): PeerInfo[] {
    const out: PeerInfo[] = [];
    for (const m of this.#members.all()) {
      const link = m.links[m.links.length - 1];
      out.push({
        node: m.node,
        incarnation: m.incarnation,
        status: m.status,
        rttMs: link?.rttMs,
        rttAvgMs: link?.rttAvgMs,
        reconnects: this.#liveness.reconnects(m.node),
        links: m.links.length,
        queued: link?.queued ?? 0,
        queuedLargeBytes: link?.queuedLargeBytes ?? 0,
        bufferedBytes: link?.bufferedAmount ?? 0,
        reassembling: m.links.reduce((n, l) => n + l.reassembling, 0),
      });
    }
    return out;
  }

  /** Is `node` up (linked) right now? */
  isUp(node: string): boolean {
    return this.#members.get(node)?.status === "up";
  }

  /**
   * Envelopes queued towards `node` and not yet handed to its socket (0 when
   * not linked). Bulk senders can pace themselves on it instead of running
   * into the bound.
   */
  queued(node: string): number {
    return this.#members.linkTo(node)?.queued ?? 0;
  }

  /** Wait until `node` is up (resolves at once when it already is). */
  waitForUp(node: string, signal?: AbortSignal): Promise<void> {
    if (this.isUp(node)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const off = this.on("up", (e) => {
        if (e.node === node) {
          off();
          resolve();
        }
      });
      signal?.addEventListener("abort", () => {
        off();
        reject(signal.reason);
      }, { once: true });
    });
  }

  /**
   * Leave gracefully: tell peers (they see `down` with reason `left` at once,
   * no failure-detector wait), fail pending asks, stop dialing and listening.
   */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    clearInterval(this.#ticker);
    this.#peers.stopDialing();
    const leave = encodeEnvelope([Kind.LEAVE, "shutdown"]);
    for (const m of this.#members.all()) {
      for (const link of m.links) {
        link.sendUrgent(leave);
        link.flush();
        link.close(CLOSE_LEAVE, "leave");
      }
      this.#liveness.markDown(m, "closed");
    }
    this.#asks.failAll("cluster closed");
    await this.#peers.closeAll();
  }

  // --------------------------------------------------------------- Transport

  /** {@link Transport.tell}: fire and forget to a remote ref. */
  tell(to: Address, msg: unknown): void {
    this.#outbound.tell(to, msg);
  }

  /** {@link Transport.ask}: request/response to a remote ref; fails fast when the node is not up. */
  ask(to: Address, msg: unknown, options: AskOptions = {}): Promise<unknown> {
    return this.#outbound.ask(to, msg, options);
  }

  /** {@link Transport.watch}: a local `watcher` watches a remote `target`. */
  watch(target: Address, watcher: Address): void {
    this.#outbound.watch(target, watcher);
  }

  /** {@link Transport.unwatch}. */
  unwatch(target: Address, watcher: Address): void {
    this.#outbound.unwatch(target, watcher);
  }
}
