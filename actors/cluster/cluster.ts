/**
 * The cluster: plugs into an actor system as its {@link Transport} and makes
 * refs location-transparent across Deno processes. It accepts peers (a
 * standalone `Deno.serve` listener, or {@link Cluster.acceptUpgrade} mounted
 * in an existing HTTP app) and dials out (agents dial the manager, so NAT is
 * no obstacle); once a link is up it is symmetric.
 *
 * Responsibilities kept here: routing envelopes to/from the actor system,
 * pending asks, remote death watch, membership transitions (up →
 * unreachable → down, restarts as new incarnations) and reconnecting.
 * Framing, the handshake, the failure detector and the socket handling live
 * in their own modules.
 *
 * @module
 */

import {
  type ActorRef,
  type ActorSystemApi,
  type Address,
  type AskOptions,
  AskTimeoutError,
  DeadLetterError,
  type StopReason,
  type Transport,
} from "../runtime/types.ts";
import { backoffDelay, type BackoffOptions } from "./backoff.ts";
import {
  ClusterBackpressureError,
  HandshakeRefusedError,
  InvalidMessageError,
  NodeUnreachableError,
  type RefusalCode,
  RemoteError,
} from "./errors.ts";
import type { FailureDetectorOptions } from "./failure_detector.ts";
import {
  type DecodedFrame,
  DEFAULT_MAX_FRAME_BYTES,
  encodeEnvelope,
} from "./framing.ts";
import {
  checkHello,
  checkWelcome,
  DEFAULT_WINDOW_MS,
  type HandshakeIdentity,
  importSecret,
  makeHello,
  makeWelcome,
  NonceCache,
} from "./handshake.ts";
import { Link, type LinkHandlers, opened, SocketInbox } from "./link.ts";
import {
  type ClusterEvents,
  type Member,
  type MemberInfo,
  Membership,
} from "./membership.ts";
import {
  CLOSE_LEAVE,
  CLOSE_REFUSED,
  CLOSE_SUPERSEDED,
  type Envelope,
  Kind,
  refusedSchema,
} from "./protocol.ts";
import { reviveRefs } from "./revive.ts";
import { type MessageSchema, SchemaRegistry } from "./schemas.ts";
import { TcpWebSocket } from "./tcp_websocket.ts";
import {
  currentTraceparent,
  hasContextManager,
  withTraceparent,
} from "./trace.ts";

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
  /** Largest frame sent or accepted. @default {4194304} (4 MiB) */
  maxFrameBytes?: number;
  /** Socket `bufferedAmount` above which frames wait. @default {4194304} */
  highWaterBytes?: number;
  /** Outbound envelopes queued per link before tells become dead letters and asks fail. @default {200000} */
  maxQueued?: number;
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
  log?: (level: "info" | "warn", message: string) => void;
}

/** Counters, for tests, metrics and the admin API. */
export interface ClusterStats {
  framesIn: number;
  framesOut: number;
  /** Whole frames dropped (not JSON, binary, too large...). */
  framesDropped: number;
  /** Single envelopes dropped (malformed, unknown kind, failed a path schema, stray reply). */
  envelopesDropped: number;
  tellsOut: number;
  tellsIn: number;
  asksOut: number;
  asksIn: number;
  /** Tells to unreachable nodes or over the queue bound. */
  deadLetters: number;
  handshakesRefused: number;
}

/** Where the standalone listener is. */
export interface ListenInfo {
  hostname: string;
  port: number;
  /** `ws://host:port/path`, what peers pass to {@link Cluster.dial}. */
  url: string;
}

interface PendingAsk {
  resolve(v: unknown): void;
  reject(e: unknown): void;
  timer: ReturnType<typeof setTimeout>;
  to: Address;
  timeoutMs: number;
  cleanup?: () => void;
}

interface Dialer {
  url: string;
  attempt: number;
  timer?: ReturnType<typeof setTimeout>;
  stopped: boolean;
  /** Runs the next attempt (set by {@link Cluster.dial}). */
  retry?: () => void;
  /** Rejects the `dial()` promise if it has not settled (on close). */
  fail?: (err: Error) => void;
}

const NODE_DOWN = (node: string): StopReason => ({ kind: "node-down", node });

/** Location transparency for an {@link ActorSystemApi} over authenticated WebSockets. */
export class Cluster implements Transport {
  readonly nodeId: string;
  readonly incarnation: number;
  readonly stats: ClusterStats = {
    framesIn: 0,
    framesOut: 0,
    framesDropped: 0,
    envelopesDropped: 0,
    tellsOut: 0,
    tellsIn: 0,
    asksOut: 0,
    asksIn: 0,
    deadLetters: 0,
    handshakesRefused: 0,
  };

  readonly #system: ActorSystemApi;
  readonly #key: Promise<CryptoKey>;
  readonly #opts: Required<
    Pick<
      ClusterOptions,
      | "heartbeatMs"
      | "maxFrameBytes"
      | "handshakeTimeoutMs"
      | "clockWindowMs"
      | "defaultAskTimeoutMs"
    >
  >;
  readonly #linkOptions;
  readonly #reconnect: BackoffOptions;
  readonly #log: (level: "info" | "warn", message: string) => void;
  readonly #members: Membership;
  readonly #nonces: NonceCache;
  readonly #schemas = new SchemaRegistry();
  readonly #pending = new Map<number, PendingAsk>();
  /** node → ask ids pending there, to fail them fast when it goes away. */
  readonly #pendingByNode = new Map<string, Set<number>>();
  /** Remote targets watched by local actors: node → target path → watcher paths. */
  readonly #watching = new Map<string, Map<string, Set<string>>>();
  /** Local targets watched by remote actors: node → "target\0watcher". */
  readonly #watchedBy = new Map<string, Set<string>>();
  readonly #dialers = new Set<Dialer>();
  readonly #handlers: LinkHandlers;
  readonly #sockets = new Set<WebSocket>();
  #askSeq = 0;
  #server: Deno.HttpServer | undefined;
  #ticker: ReturnType<typeof setInterval> | undefined;
  #closing = false;
  /** Whether an OpenTelemetry context manager is active (checked per frame). */
  #traceCtx = false;
  #ticks = 0;
  #logBudget = { second: 0, left: 20 };

  constructor(system: ActorSystemApi, options: ClusterOptions) {
    this.#system = system;
    this.nodeId = options.nodeId ?? system.nodeId;
    if (this.nodeId !== system.nodeId) {
      throw new TypeError(
        `cluster nodeId ${this.nodeId} differs from the actor system's ${system.nodeId}`,
      );
    }
    this.incarnation = options.incarnation ?? Date.now();
    this.#opts = {
      heartbeatMs: options.heartbeatMs ?? 1000,
      maxFrameBytes: options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? 5000,
      clockWindowMs: options.clockWindowMs ?? DEFAULT_WINDOW_MS,
      defaultAskTimeoutMs: options.defaultAskTimeoutMs ?? 5000,
    };
    this.#linkOptions = {
      maxFrameBytes: this.#opts.maxFrameBytes,
      highWaterBytes: options.highWaterBytes,
      maxQueued: options.maxQueued,
      batchBytes: options.batchBytes,
      batchCount: options.batchCount,
    };
    this.#reconnect = options.reconnect ?? {};
    this.#log = options.log ??
      ((level, msg) =>
        console.error(`[cluster ${this.nodeId}] ${level}: ${msg}`));
    this.#members = new Membership({
      firstHeartbeatEstimateMs: this.#opts.heartbeatMs,
      ...options.failureDetector,
    });
    this.#nonces = new NonceCache(this.#opts.clockWindowMs);
    this.#key = importSecret(options.secret);
    this.#key.catch(() => {}); // surfaced by the first handshake
    this.#handlers = {
      onFrame: (link, frame) => this.#onFrame(link, frame),
      onClose: (link, code, reason) => this.#onLinkClosed(link, code, reason),
    };
    system.setTransport(this);
    this.#ticker = setInterval(
      () => this.#tick(),
      Math.max(10, Math.floor(this.#opts.heartbeatMs / 2)),
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
    const hostname = options.hostname ?? "127.0.0.1";
    const path = options.path ?? "/cluster";
    return new Promise((resolve, reject) => {
      try {
        this.#server = Deno.serve({
          port: options.port ?? 0,
          hostname,
          onListen: (addr) => {
            const port = (addr as Deno.NetAddr).port;
            resolve({ hostname, port, url: `ws://${hostname}:${port}${path}` });
          },
        }, (req) => {
          if (new URL(req.url).pathname !== path) {
            return new Response("not found", { status: 404 });
          }
          return this.acceptUpgrade(req);
        });
      } catch (err) {
        reject(err);
      }
    });
  }

  /**
   * Accept a peer on an HTTP request (mount this in a Hono route:
   * `app.get("/cluster", (c) => cluster.acceptUpgrade(c.req.raw))`).
   * Answers 426 when the request is not a WebSocket upgrade.
   */
  acceptUpgrade(req: Request): Response {
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("expected a WebSocket upgrade", {
        status: 426,
        headers: { upgrade: "websocket" },
      });
    }
    if (this.#closing) {
      return new Response("cluster node is shutting down", { status: 503 });
    }
    const { socket, response } = Deno.upgradeWebSocket(req, { idleTimeout: 0 });
    this.#track(socket);
    this.#accept(socket).catch((err) =>
      this.#log("warn", `accept failed: ${err}`)
    );
    return response;
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
    const dialer: Dialer = {
      url,
      attempt: 0,
      stopped: false,
    };
    this.#dialers.add(dialer);
    return new Promise((resolve, reject) => {
      const attempt = async () => {
        dialer.timer = undefined;
        if (dialer.stopped || this.#closing) {
          reject(
            new NodeUnreachableError(
              url,
              undefined,
              "cluster closed while dialing",
            ),
          );
          return;
        }
        try {
          const peer = await this.#dialOnce(dialer);
          dialer.attempt = 0;
          resolve(peer);
        } catch (err) {
          if (
            err instanceof HandshakeRefusedError && FATAL_REFUSALS.has(err.code)
          ) {
            dialer.stopped = true;
            this.#dialers.delete(dialer);
            this.#log(
              "warn",
              `dial ${url} refused, not retrying: ${err.message}`,
            );
            reject(err);
            return;
          }
          this.#scheduleRedial(
            dialer,
            attempt,
            String(err instanceof Error ? err.message : err),
          );
        }
      };
      dialer.retry = attempt;
      dialer.fail = reject;
      attempt();
    });
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
    return this.#linkTo(node)?.queued ?? 0;
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
    for (const d of this.#dialers) {
      d.stopped = true;
      d.fail?.(
        new NodeUnreachableError(
          d.url,
          undefined,
          "cluster closed while dialing",
        ),
      );
      if (d.timer !== undefined) clearTimeout(d.timer);
    }
    this.#dialers.clear();
    const leave = encodeEnvelope([Kind.LEAVE, "shutdown"]);
    for (const m of this.#members.all()) {
      for (const link of m.links) {
        link.sendUrgent(leave);
        link.flush();
        link.close(CLOSE_LEAVE, "leave");
      }
      this.#markDown(m, "closed");
    }
    for (const [id, p] of this.#pending) {
      this.#pending.delete(id);
      p.cleanup?.();
      clearTimeout(p.timer);
      p.reject(new NodeUnreachableError(p.to.node, p.to, "cluster closed"));
    }
    for (const ws of this.#sockets) {
      try {
        ws.close(CLOSE_LEAVE, "leave");
      } catch { /* closing already */ }
    }
    await Promise.all(
      [...this.#sockets].map((ws) => closedOrTimeout(ws, 2000)),
    );
    await this.#server?.shutdown();
  }

  // --------------------------------------------------------------- Transport

  /** {@link Transport.tell}: fire and forget to a remote ref. */
  tell(to: Address, msg: unknown): void {
    if (to.node === this.nodeId) {
      this.#system.deliver(to.path, msg);
      return;
    }
    const link = this.#linkTo(to.node);
    if (link === undefined) {
      return this.#deadLetter(to, msg, "node-unreachable");
    }
    const tp = currentTraceparent();
    const env = isTerminated(msg)
      ? encodeEnvelope(
        [Kind.TERMINATED, to.path, msg.ref.path, msg.reason, tp],
        this.#opts.maxFrameBytes,
      )
      : encodeEnvelope([Kind.TELL, to.path, msg, tp], this.#opts.maxFrameBytes);
    if (!link.send(env)) return this.#deadLetter(to, msg, "backpressure");
    this.stats.tellsOut++;
  }

  /** {@link Transport.ask}: request/response to a remote ref; fails fast when the node is not up. */
  ask(to: Address, msg: unknown, options: AskOptions = {}): Promise<unknown> {
    if (to.node === this.nodeId) {
      return this.#system.deliverAsk(to.path, msg, options);
    }
    const link = this.#linkTo(to.node);
    if (link === undefined) {
      return Promise.reject(
        new NodeUnreachableError(to.node, to, this.#whyUnreachable(to.node)),
      );
    }
    if (options.signal?.aborted) return Promise.reject(options.signal.reason);
    const timeoutMs = Math.max(
      1,
      Math.floor(options.timeoutMs ?? this.#opts.defaultAskTimeoutMs),
    );
    const id = ++this.#askSeq;
    let env: string;
    try {
      env = encodeEnvelope([
        Kind.ASK,
        id,
        to.path,
        msg,
        timeoutMs,
        currentTraceparent(),
      ], this.#opts.maxFrameBytes);
    } catch (err) {
      return Promise.reject(err);
    }
    if (!link.send(env)) {
      return Promise.reject(
        new ClusterBackpressureError(to.node, link.queued, link.maxQueued),
      );
    }
    this.stats.asksOut++;
    return new Promise((resolve, reject) => {
      const p: PendingAsk = {
        resolve,
        reject,
        to,
        timeoutMs,
        timer: setTimeout(
          () => this.#settle(id, undefined, new AskTimeoutError(to, timeoutMs)),
          timeoutMs,
        ),
      };
      const signal = options.signal;
      if (signal) {
        const onAbort = () => this.#settle(id, undefined, signal.reason);
        signal.addEventListener("abort", onAbort, { once: true });
        p.cleanup = () => signal.removeEventListener("abort", onAbort);
      }
      this.#pending.set(id, p);
      let ids = this.#pendingByNode.get(to.node);
      if (ids === undefined) this.#pendingByNode.set(to.node, ids = new Set());
      ids.add(id);
    });
  }

  /** {@link Transport.watch}: a local `watcher` watches a remote `target`. */
  watch(target: Address, watcher: Address): void {
    const m = this.#members.get(target.node);
    if (m === undefined || m.status === "down") {
      // Like Erlang's monitor on a dead node: Terminated right away.
      queueMicrotask(() =>
        this.#system.signalTerminated(target, NODE_DOWN(target.node))
      );
      return;
    }
    let targets = this.#watching.get(target.node);
    if (targets === undefined) {
      this.#watching.set(target.node, targets = new Map());
    }
    let watchers = targets.get(target.path);
    if (watchers === undefined) targets.set(target.path, watchers = new Set());
    watchers.add(watcher.path);
    const link = this.#linkTo(target.node);
    link?.sendUrgent(
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
    const targets = this.#watching.get(target.node);
    const watchers = targets?.get(target.path);
    if (!watchers?.delete(watcher.path)) return;
    if (watchers.size === 0) targets!.delete(target.path);
    this.#linkTo(target.node)?.sendUrgent(
      encodeEnvelope([
        Kind.UNWATCH,
        target.path,
        watcher.path,
        currentTraceparent(),
      ]),
    );
  }

  // ---------------------------------------------------------------- handshake

  async #accept(ws: WebSocket): Promise<void> {
    const inbox = new SocketInbox(ws);
    const key = await this.#key;
    const first = await inbox.next(this.#opts.handshakeTimeoutMs);
    if (first === undefined) {
      if (!inbox.closed) {
        this.#refuse(
          ws,
          new HandshakeRefusedError("timeout", "no hello in time"),
        );
      }
      return;
    }
    let hello;
    try {
      if (typeof first !== "string") {
        throw new HandshakeRefusedError(
          "malformed",
          "hello must be a text frame",
        );
      }
      let raw: unknown;
      try {
        raw = JSON.parse(first);
      } catch {
        throw new HandshakeRefusedError("malformed", "hello is not JSON");
      }
      hello = await checkHello(key, raw, this.#nonces);
      if (hello.node === this.nodeId) {
        throw new HandshakeRefusedError(
          "self",
          `peer claims our own node id ${hello.node}`,
        );
      }
      if (this.#closing) {
        throw new HandshakeRefusedError("closing", "node is shutting down");
      }
    } catch (err) {
      if (!(err instanceof HandshakeRefusedError)) throw err;
      this.#refuse(ws, err);
      return;
    }
    const welcome = JSON.stringify(
      await makeWelcome(this.#identity(key), hello.nonce),
    );
    if (ws.readyState !== WebSocket.OPEN) return;
    ws.send(welcome);
    this.#linkUp(
      new Link(
        inbox,
        hello.node,
        hello.inc,
        false,
        this.#handlers,
        this.#linkOptions,
      ),
    );
  }

  #refuse(ws: WebSocket, err: HandshakeRefusedError) {
    this.stats.handshakesRefused++;
    this.#log("warn", `refused a peer: ${err.message}`);
    this.#members.emit("refused", {
      code: err.code,
      detail: err.detail,
      direction: "in",
    });
    try {
      ws.send(
        JSON.stringify({ t: "refused", code: err.code, detail: err.detail }),
      );
      ws.close(CLOSE_REFUSED, `${err.code}: ${err.detail}`.slice(0, 120));
    } catch { /* already gone */ }
  }

  async #dialOnce(dialer: Dialer): Promise<string> {
    const key = await this.#key;
    // ws:// goes through our no-delay client (see tcp_websocket.ts for why).
    const ws = dialer.url.startsWith("ws:")
      ? new TcpWebSocket(dialer.url) as unknown as WebSocket
      : new WebSocket(dialer.url);
    this.#track(ws);
    const inbox = new SocketInbox(ws);
    if (!await opened(ws, this.#opts.handshakeTimeoutMs)) {
      try {
        ws.close();
      } catch { /* never opened */ }
      throw new NodeUnreachableError(dialer.url, undefined, "cannot connect");
    }
    const hello = await makeHello(this.#identity(key));
    ws.send(JSON.stringify(hello));
    const answer = await inbox.next(this.#opts.handshakeTimeoutMs);
    try {
      if (answer === undefined) {
        const c = inbox.closed;
        if (c?.code === CLOSE_REFUSED) throw refusalFromClose(c.reason);
        throw new HandshakeRefusedError(
          "timeout",
          c ? `closed (${c.code}) during handshake` : "no welcome in time",
        );
      }
      let raw: unknown;
      try {
        raw = JSON.parse(String(answer));
      } catch {
        throw new HandshakeRefusedError("malformed", "welcome is not JSON");
      }
      const refused = refusedSchema.safeParse(raw);
      if (refused.success) {
        throw new HandshakeRefusedError(refused.data.code, refused.data.detail);
      }
      const welcome = await checkWelcome(
        key,
        raw,
        hello.nonce,
        Date.now(),
        this.#opts.clockWindowMs,
      );
      if (welcome.node === this.nodeId) {
        throw new HandshakeRefusedError("self", "dialed ourselves");
      }
      if (this.#closing) throw new HandshakeRefusedError("closing", "closing");
      const link = new Link(
        inbox,
        welcome.node,
        welcome.inc,
        true,
        this.#handlers,
        this.#linkOptions,
      );
      (link as LinkWithDialer).dialer = dialer;
      this.#linkUp(link);
      return welcome.node;
    } catch (err) {
      try {
        ws.close(
          CLOSE_REFUSED,
          err instanceof HandshakeRefusedError ? `${err.code}` : "error",
        );
      } catch { /* gone */ }
      if (err instanceof HandshakeRefusedError) {
        this.#members.emit("refused", {
          code: err.code,
          detail: err.detail,
          direction: "out",
          url: dialer.url,
        });
      }
      throw err;
    }
  }

  #scheduleRedial(dialer: Dialer, retry: () => void, why: string) {
    if (dialer.stopped || this.#closing || dialer.timer !== undefined) return;
    const delay = backoffDelay(dialer.attempt++, this.#reconnect);
    this.#log("info", `dial ${dialer.url}: ${why}; retry in ${delay} ms`);
    dialer.timer = setTimeout(retry, delay);
  }

  #identity(key: CryptoKey): HandshakeIdentity {
    return { key, node: this.nodeId, incarnation: this.incarnation };
  }

  #track(ws: WebSocket) {
    this.#sockets.add(ws);
    ws.addEventListener("close", () => this.#sockets.delete(ws));
  }

  // --------------------------------------------------------------- membership

  #linkUp(link: Link) {
    const now = performance.now();
    let m = this.#members.get(link.peer);
    if (
      m !== undefined && m.status !== "down" &&
      m.incarnation !== link.incarnation
    ) {
      if (link.incarnation < m.incarnation) {
        // A stale incarnation dialing late: keep the newer one.
        link.close(CLOSE_SUPERSEDED, "stale incarnation");
        return;
      }
      this.#markDown(m, "restarted");
      m = undefined;
    }
    if (m === undefined || m.status === "down") {
      m = this.#members.add(link.peer, link.incarnation, now);
      m.links.push(link);
      this.#log("info", `${link.peer} (incarnation ${link.incarnation}) is up`);
      this.#members.emit("up", {
        node: m.node,
        incarnation: m.incarnation,
        reason: "joined",
      });
      return;
    }
    m.links.push(link);
    m.detector.heartbeat(now);
    if (m.status === "unreachable") {
      m.status = "up";
      // Re-register watches the peer may have missed while we were apart.
      const tp = currentTraceparent();
      for (const [target, watchers] of this.#watching.get(m.node) ?? []) {
        for (const w of watchers) {
          link.sendUrgent(encodeEnvelope([Kind.WATCH, target, w, tp]));
        }
      }
      this.#members.emit("reachable", {
        node: m.node,
        incarnation: m.incarnation,
        reason: "relinked",
      });
    }
  }

  #onLinkClosed(link: Link, code: number, reason: string) {
    const m = this.#members.get(link.peer);
    if (m !== undefined && m.incarnation === link.incarnation) {
      m.links = m.links.filter((l) => l !== link);
      if (m.links.length === 0 && m.status === "up") {
        m.status = "unreachable";
        this.#failPending(m.node, "link lost");
        this.#log(
          "info",
          `${m.node} unreachable (link closed ${code} ${reason})`,
        );
        this.#members.emit("unreachable", {
          node: m.node,
          incarnation: m.incarnation,
          reason: `closed ${code}`,
        });
      }
    }
    const dialer = (link as LinkWithDialer).dialer;
    if (dialer !== undefined && !dialer.stopped && !this.#closing) {
      this.#scheduleRedial(
        dialer,
        dialer.retry!,
        `link closed (${code} ${reason})`,
      );
    }
  }

  #markDown(m: Member, reason: string) {
    if (m.status === "down") return;
    m.status = "down";
    for (const link of m.links) link.close(CLOSE_SUPERSEDED, `down: ${reason}`);
    m.links = [];
    this.#failPending(m.node, `node down (${reason})`);
    const targets = this.#watching.get(m.node);
    this.#watching.delete(m.node);
    for (const target of targets?.keys() ?? []) {
      this.#system.signalTerminated(
        { node: m.node, path: target },
        NODE_DOWN(m.node),
      );
    }
    const watchedBy = this.#watchedBy.get(m.node);
    this.#watchedBy.delete(m.node);
    for (const key of watchedBy ?? []) {
      const [target, watcher] = key.split("\0");
      this.#system.unwatchFor(target, { node: m.node, path: watcher });
    }
    this.#log(
      "info",
      `${m.node} (incarnation ${m.incarnation}) is down: ${reason}`,
    );
    this.#members.emit("down", {
      node: m.node,
      incarnation: m.incarnation,
      reason,
    });
  }

  #failPending(node: string, why: string) {
    const ids = this.#pendingByNode.get(node);
    if (ids === undefined) return;
    this.#pendingByNode.delete(node);
    for (const id of ids) {
      const p = this.#pending.get(id);
      if (p) {
        this.#settle(id, undefined, new NodeUnreachableError(node, p.to, why));
      }
    }
  }

  /**
   * Runs every half heartbeat: checks the detectors each time, sends
   * heartbeats every other time. A link that carried any frame since the
   * previous beat skips its heartbeat: the peer's detector counts every
   * frame as a sign of life, so an agent's own 1 s status tells already do
   * the job (at most ~2 beats of silence, well inside the acceptable pause).
   */
  #tick() {
    const now = performance.now();
    const beat = (this.#ticks++ & 1) === 0;
    let hb: string | undefined;
    for (const m of this.#members.all()) {
      if (m.status === "down") continue;
      if (!m.detector.isAvailable(now)) {
        this.#markDown(m, "failure-detector");
        continue;
      }
      const last = m.links[m.links.length - 1];
      if (beat && last !== undefined) {
        const sent = last.framesOut + last.queued;
        const mark = this.#beatMarks.get(last);
        if (mark === undefined || mark === sent) {
          hb ??= encodeEnvelope([Kind.HEARTBEAT, Date.now()]);
          last.sendUrgent(hb);
          this.#beatMarks.set(last, sent + 1);
        } else {
          this.#beatMarks.set(last, sent);
        }
      }
    }
  }

  /** Frames sent (or queued) on a link as of the previous beat. */
  readonly #beatMarks = new WeakMap<Link, number>();

  #linkTo(node: string): Link | undefined {
    const m = this.#members.get(node);
    if (m === undefined || m.status !== "up") return undefined;
    return m.links[m.links.length - 1];
  }

  #whyUnreachable(node: string): string {
    const m = this.#members.get(node);
    if (m === undefined) return "unknown node";
    return m.status === "down" ? "node down" : "node unreachable";
  }

  #deadLetter(
    to: Address,
    message: unknown,
    reason: "node-unreachable" | "backpressure",
  ) {
    this.stats.deadLetters++;
    if (this.#members.hasListeners("deadLetter")) {
      this.#members.emit("deadLetter", {
        node: to.node,
        path: to.path,
        message,
        reason,
      });
    }
  }

  // ------------------------------------------------------------------ inbound

  #onFrame(link: Link, frame: DecodedFrame) {
    this.stats.framesIn++;
    const m = this.#members.get(link.peer);
    if (
      m === undefined || m.incarnation !== link.incarnation ||
      m.status === "down"
    ) return;
    m.detector.heartbeat(performance.now());
    if (frame.problem !== undefined) {
      this.stats.framesDropped++;
      this.#warn(
        `dropped a frame from ${link.peer}: ${frame.problem}` +
          (frame.problem === "too-large"
            ? ` (${frame.bytes} bytes, max ${link.maxFrameBytes})`
            : ""),
      );
      return;
    }
    if (frame.invalid > 0) {
      this.stats.envelopesDropped += frame.invalid;
      this.#warn(
        `dropped ${frame.invalid} malformed envelope(s) from ${link.peer}`,
      );
    }
    this.#traceCtx = hasContextManager();
    const envs = frame.envelopes;
    for (let i = 0; i < envs.length; i++) {
      this.#onEnvelope(link, envs[i], frame.hasRefs);
    }
  }

  #onEnvelope(link: Link, env: Envelope, hasRefs: boolean) {
    switch (env[0]) {
      case Kind.TELL: {
        const [, path, raw, tp] = env;
        const msg = this.#check(link, path, raw, hasRefs);
        if (msg === INVALID) return;
        this.stats.tellsIn++;
        withTraceparent(
          tp,
          () => this.#system.deliver(path, msg),
          this.#traceCtx,
        );
        return;
      }
      case Kind.ASK:
        return this.#onAsk(
          link,
          env[1],
          env[2],
          env[3],
          env[4],
          env[5],
          hasRefs,
        );
      case Kind.REPLY: {
        const p = this.#pending.get(env[1]);
        if (p === undefined || p.to.node !== link.peer) {
          return this.#stray(link, env[1]);
        }
        this.#settle(
          env[1],
          hasRefs ? this.#revive(env[2]) : env[2],
          undefined,
        );
        return;
      }
      case Kind.FAIL: {
        const p = this.#pending.get(env[1]);
        if (p === undefined || p.to.node !== link.peer) {
          return this.#stray(link, env[1]);
        }
        this.#settle(
          env[1],
          undefined,
          reviveError(env[2], env[3], p, link.peer),
        );
        return;
      }
      case Kind.WATCH: {
        const [, target, watcher] = env;
        let set = this.#watchedBy.get(link.peer);
        if (set === undefined) this.#watchedBy.set(link.peer, set = new Set());
        set.add(`${target}\0${watcher}`);
        this.#system.watchFor(target, { node: link.peer, path: watcher });
        return;
      }
      case Kind.UNWATCH: {
        const [, target, watcher] = env;
        this.#watchedBy.get(link.peer)?.delete(`${target}\0${watcher}`);
        this.#system.unwatchFor(target, { node: link.peer, path: watcher });
        return;
      }
      case Kind.TERMINATED: {
        const [, , target, reason, tp] = env;
        this.#watching.get(link.peer)?.delete(target);
        withTraceparent(
          tp,
          () =>
            this.#system.signalTerminated(
              { node: link.peer, path: target },
              reason,
            ),
          this.#traceCtx,
        );
        return;
      }
      case Kind.HEARTBEAT:
        return; // the frame already counted as a sign of life
      case Kind.LEAVE: {
        const m = this.#members.get(link.peer);
        if (m !== undefined) this.#markDown(m, "left");
        return;
      }
    }
  }

  #onAsk(
    link: Link,
    id: number,
    path: string,
    raw: unknown,
    timeoutMs: number,
    tp: string,
    hasRefs: boolean,
  ) {
    const peer = link.peer;
    const reply = (env: unknown[]) => {
      const out = this.#linkTo(peer) ?? link;
      let encoded: string;
      try {
        encoded = encodeEnvelope(env, this.#opts.maxFrameBytes);
      } catch (err) {
        encoded = encodeEnvelope([
          Kind.FAIL,
          id,
          errName(err),
          errMessage(err),
          tp,
        ]);
      }
      out.sendUrgent(encoded);
    };
    let msg: unknown;
    try {
      msg = this.#check(link, path, raw, hasRefs, true);
    } catch (err) {
      reply([Kind.FAIL, id, errName(err), errMessage(err), tp]);
      return;
    }
    this.stats.asksIn++;
    let answer: Promise<unknown>;
    try {
      answer = withTraceparent(
        tp,
        () => this.#system.deliverAsk(path, msg, { timeoutMs }),
        this.#traceCtx,
      );
    } catch (err) {
      answer = Promise.reject(err);
    }
    answer.then(
      (value) =>
        reply([Kind.REPLY, id, value === undefined ? null : value, tp]),
      (err) => reply([Kind.FAIL, id, errName(err), errMessage(err), tp]),
    );
  }

  /** Revive refs and apply the path's schema; INVALID (or a throw, for asks) when it fails. */
  #check(
    link: Link,
    path: string,
    raw: unknown,
    hasRefs: boolean,
    throwOnInvalid = false,
  ): unknown {
    const msg = hasRefs ? this.#revive(raw) : raw;
    const schema = this.#schemas.lookup(path);
    if (schema === undefined) return msg;
    const r = schema.safeParse(msg);
    if (r.success) return r.data;
    this.stats.envelopesDropped++;
    const err = new InvalidMessageError(path, r.error.message);
    this.#warn(`dropped a message from ${link.peer}: ${err.message}`);
    if (throwOnInvalid) throw err;
    return INVALID;
  }

  #revive(value: unknown): unknown {
    return reviveRefs(value, (a) => this.#system.refFor(a) as ActorRef);
  }

  #stray(link: Link, id: number) {
    this.stats.envelopesDropped++;
    this.#warn(`dropped a reply from ${link.peer} to unknown ask ${id}`);
  }

  #settle(id: number, value: unknown, error: unknown) {
    const p = this.#pending.get(id);
    if (p === undefined) return;
    this.#pending.delete(id);
    this.#pendingByNode.get(p.to.node)?.delete(id);
    clearTimeout(p.timer);
    p.cleanup?.();
    if (error !== undefined) p.reject(error);
    else p.resolve(value);
  }

  /** Warnings about peers' bad input, rate-limited so a flood of junk cannot flood the log. */
  #warn(message: string) {
    const second = Math.floor(Date.now() / 1000);
    if (second !== this.#logBudget.second) {
      this.#logBudget = { second, left: 20 };
    }
    if (this.#logBudget.left-- > 0) this.#log("warn", message);
  }
}

const INVALID = Symbol("invalid");

/** Refusals retrying cannot fix: the dialer stops instead of looping. */
const FATAL_REFUSALS = new Set<RefusalCode>([
  "bad-secret",
  "protocol",
  "self",
  "malformed",
]);

/** Links this node dialed remember their dialer, to redial when they close. */
type LinkWithDialer = Link & { dialer?: Dialer };

function refusalFromClose(reason: string): HandshakeRefusedError {
  const i = reason.indexOf(":");
  const code = (i > 0 ? reason.slice(0, i) : "protocol") as RefusalCode;
  return new HandshakeRefusedError(
    code,
    i > 0 ? reason.slice(i + 1).trim() : reason,
  );
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

function errName(err: unknown): string {
  return (err instanceof Error ? err.name : "Error").slice(0, 256);
}

function errMessage(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).slice(0, 65_536);
}

/** Map a remote failure back to the local typed error where there is one. */
function reviveError(
  name: string,
  message: string,
  p: PendingAsk,
  node: string,
): Error {
  switch (name) {
    case "AskTimeoutError":
      return new AskTimeoutError(p.to, p.timeoutMs);
    case "DeadLetterError":
      return new DeadLetterError(p.to);
    case "InvalidMessageError":
      return new InvalidMessageError(p.to.path, message);
    default:
      return new RemoteError(name, message, node);
  }
}

function closedOrTimeout(ws: WebSocket, ms: number): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    ws.addEventListener("close", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}
