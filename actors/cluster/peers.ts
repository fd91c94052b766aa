/**
 * Getting links: accepting peers (a standalone listener, or an upgrade
 * mounted in an HTTP app) and dialing them, the handshake on each new
 * socket, and dialing again with backoff when a dialed link is lost. A
 * handshake that succeeds hands a {@link Link} to `onLink`; one that is
 * refused tells the peer why (a `refused` message and close code 4001) and
 * is reported as a `refused` event.
 *
 * @module
 */

import { backoffDelay, type BackoffOptions } from "./backoff.ts";
import {
  HandshakeRefusedError,
  NodeUnreachableError,
  type RefusalCode,
} from "./errors.ts";
import {
  checkHello,
  checkWelcome,
  type HandshakeIdentity,
  makeHello,
  makeWelcome,
  type NonceCache,
} from "./handshake.ts";
import { Link, type LinkHandlers, type LinkOptions } from "./link.ts";
import type { Membership } from "./membership.ts";
import { CLOSE_LEAVE, CLOSE_REFUSED, refusedSchema } from "./protocol.ts";
import type { ClusterLog, ClusterStats } from "./stats.ts";
import { opened, SocketInbox } from "./socket_inbox.ts";
import { TcpWebSocket } from "./tcp_websocket.ts";

/** Where the standalone listener is. */
export interface ListenInfo {
  hostname: string;
  port: number;
  /** `ws://host:port/path`, what peers pass to `Cluster.dial`. */
  url: string;
}

/** What {@link Peers} works with. */
export interface PeersDeps {
  readonly nodeId: string;
  readonly incarnation: number;
  readonly key: Promise<CryptoKey>;
  readonly nonces: NonceCache;
  readonly handshakeTimeoutMs: number;
  readonly clockWindowMs: number;
  readonly reconnect: BackoffOptions;
  readonly linkOptions: LinkOptions;
  readonly handlers: LinkHandlers;
  readonly members: Membership;
  readonly stats: ClusterStats;
  readonly log: ClusterLog;
  /** True once the cluster is closing: no new links. */
  closing(): boolean;
  /** A handshake succeeded. */
  onLink(link: Link): void;
}

interface Dialer {
  url: string;
  attempt: number;
  timer?: ReturnType<typeof setTimeout>;
  stopped: boolean;
  /** Runs the next attempt. */
  retry?: () => void;
  /** Rejects the `dial()` promise if it has not settled (on close). */
  fail?: (err: Error) => void;
}

/** Refusals retrying cannot fix: the dialer stops instead of looping. */
const FATAL_REFUSALS = new Set<RefusalCode>([
  "bad-secret",
  "protocol",
  "self",
  "malformed",
]);

/** Accepting, dialing, handshakes and redialing; see the module doc. */
export class Peers {
  readonly #d: PeersDeps;
  readonly #dialers = new Set<Dialer>();
  /** Links this node dialed remember their dialer, to redial when they close. */
  readonly #dialerOf = new WeakMap<Link, Dialer>();
  readonly #sockets = new Set<WebSocket>();
  #server: Deno.HttpServer | undefined;

  constructor(deps: PeersDeps) {
    this.#d = deps;
  }

  /** See `Cluster.listen`. */
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

  /** See `Cluster.acceptUpgrade`. */
  acceptUpgrade(req: Request): Response {
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("expected a WebSocket upgrade", {
        status: 426,
        headers: { upgrade: "websocket" },
      });
    }
    if (this.#d.closing()) {
      return new Response("cluster node is shutting down", { status: 503 });
    }
    const { socket, response } = Deno.upgradeWebSocket(req, { idleTimeout: 0 });
    this.#track(socket);
    this.#accept(socket).catch((err) =>
      this.#d.log("warn", `accept failed: ${err}`)
    );
    return response;
  }

  /** See `Cluster.dial`. */
  dial(url: string): Promise<string> {
    const dialer: Dialer = { url, attempt: 0, stopped: false };
    this.#dialers.add(dialer);
    return new Promise((resolve, reject) => {
      const attempt = async () => {
        dialer.timer = undefined;
        if (dialer.stopped || this.#d.closing()) {
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
            this.#d.log(
              "warn",
              `dial ${url} refused, not retrying: ${err.message}`,
            );
            reject(err);
            return;
          }
          this.#scheduleRedial(
            dialer,
            String(err instanceof Error ? err.message : err),
          );
        }
      };
      dialer.retry = attempt;
      dialer.fail = reject;
      attempt();
    });
  }

  /** A link this node dialed closed: dial its URL again, with backoff. */
  redial(link: Link, why: string): void {
    const dialer = this.#dialerOf.get(link);
    if (dialer !== undefined) this.#scheduleRedial(dialer, why);
  }

  /** Stop dialing: pending `dial()` promises reject. */
  stopDialing(): void {
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
  }

  /** Close every socket (within 2 s each) and the listener. */
  async closeAll(): Promise<void> {
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

  async #accept(ws: WebSocket): Promise<void> {
    const d = this.#d;
    const inbox = new SocketInbox(ws);
    const key = await d.key;
    const first = await inbox.next(d.handshakeTimeoutMs);
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
      hello = await checkHello(key, raw, d.nonces);
      if (hello.node === d.nodeId) {
        throw new HandshakeRefusedError(
          "self",
          `peer claims our own node id ${hello.node}`,
        );
      }
      if (d.closing()) {
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
    d.onLink(
      new Link(inbox, hello.node, hello.inc, false, d.handlers, d.linkOptions),
    );
  }

  #refuse(ws: WebSocket, err: HandshakeRefusedError): void {
    this.#d.stats.handshakesRefused++;
    this.#d.log("warn", `refused a peer: ${err.message}`);
    this.#d.members.emit("refused", {
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
    const d = this.#d;
    const key = await d.key;
    // ws:// goes through our no-delay client (see tcp_websocket.ts for why).
    const ws = dialer.url.startsWith("ws:")
      ? new TcpWebSocket(dialer.url) as unknown as WebSocket
      : new WebSocket(dialer.url);
    this.#track(ws);
    const inbox = new SocketInbox(ws);
    if (!await opened(ws, d.handshakeTimeoutMs)) {
      try {
        ws.close();
      } catch { /* never opened */ }
      throw new NodeUnreachableError(dialer.url, undefined, "cannot connect");
    }
    const hello = await makeHello(this.#identity(key));
    ws.send(JSON.stringify(hello));
    const answer = await inbox.next(d.handshakeTimeoutMs);
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
        d.clockWindowMs,
      );
      if (welcome.node === d.nodeId) {
        throw new HandshakeRefusedError("self", "dialed ourselves");
      }
      if (d.closing()) throw new HandshakeRefusedError("closing", "closing");
      const link = new Link(
        inbox,
        welcome.node,
        welcome.inc,
        true,
        d.handlers,
        d.linkOptions,
      );
      this.#dialerOf.set(link, dialer);
      d.onLink(link);
      return welcome.node;
    } catch (err) {
      try {
        ws.close(
          CLOSE_REFUSED,
          err instanceof HandshakeRefusedError ? `${err.code}` : "error",
        );
      } catch { /* gone */ }
      if (err instanceof HandshakeRefusedError) {
        d.members.emit("refused", {
          code: err.code,
          detail: err.detail,
          direction: "out",
          url: dialer.url,
        });
      }
      throw err;
    }
  }

  #scheduleRedial(dialer: Dialer, why: string): void {
    if (dialer.stopped || this.#d.closing() || dialer.timer !== undefined) {
      return;
    }
    const delay = backoffDelay(dialer.attempt++, this.#d.reconnect);
    this.#d.log("info", `dial ${dialer.url}: ${why}; retry in ${delay} ms`);
    dialer.timer = setTimeout(dialer.retry!, delay);
  }

  #identity(key: CryptoKey): HandshakeIdentity {
    return {
      key,
      node: this.#d.nodeId,
      incarnation: this.#d.incarnation,
    };
  }

  #track(ws: WebSocket): void {
    this.#sockets.add(ws);
    ws.addEventListener("close", () => this.#sockets.delete(ws));
  }
}

function refusalFromClose(reason: string): HandshakeRefusedError {
  const i = reason.indexOf(":");
  const code = (i > 0 ? reason.slice(0, i) : "protocol") as RefusalCode;
  return new HandshakeRefusedError(
    code,
    i > 0 ? reason.slice(i + 1).trim() : reason,
  );
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
