/**
 * Inbound routing: what arrives on a link, frame by frame, handed to the
 * actor system. Every frame is a sign of life for the failure detector;
 * dropped frames and envelopes are counted and logged (rate-limited) with
 * their sender; a message for a path with a registered schema is checked
 * against it (refs revived first); tells and asks are delivered with their
 * trace context; replies settle pending asks; watch traffic goes to the
 * watch table; pings are answered.
 *
 * An ask from a peer is answered through a {@link RemoteReply} handed to
 * the system with the message (no promise, no second timer: the asker
 * times out on its own), which sends REPLY or FAIL back on the newest link
 * to the peer.
 *
 * @module
 */

import type { ActorRef, ActorSystemApi, Reply } from "../runtime/types.ts";
import { InvalidMessageError } from "./errors.ts";
import { type DecodedFrame, encodeEnvelope, encodeReply } from "./framing.ts";
import type { Link } from "./link.ts";
import type { Liveness } from "./liveness.ts";
import type { Membership } from "./membership.ts";
import { type Envelope, Kind } from "./protocol.ts";
import type { RemoteAsks } from "./remote_asks.ts";
import type { WatchTable } from "./remote_watch.ts";
import { reviveRefs } from "./revive.ts";
import type { SchemaRegistry } from "./schemas.ts";
import type { ClusterStats } from "./stats.ts";
import { hasContextManager, withTraceparent } from "./trace.ts";

/** What {@link Inbound} works with. */
export interface InboundDeps {
  readonly system: ActorSystemApi;
  readonly members: Membership;
  readonly schemas: SchemaRegistry;
  readonly asks: RemoteAsks;
  readonly watches: WatchTable;
  readonly liveness: Liveness;
  readonly stats: ClusterStats;
  /** Largest reply this node sends (a larger one fails the ask instead). */
  readonly maxMessageBytes: number;
  /** Rate-limited warnings about peers' bad input. */
  warn(message: string): void;
}

const INVALID = Symbol("invalid");

/** Routes inbound frames; see the module doc. */
export class Inbound {
  readonly #d: InboundDeps;
  /** Whether an OpenTelemetry context manager is active (see {@link refreshTraceContext}). */
  #traceCtx = hasContextManager();

  constructor(deps: InboundDeps) {
    this.#d = deps;
  }

  /**
   * Looks again whether an OpenTelemetry context manager is registered
   * (one is, from start-up, with `OTEL_DENO=true`). Called every tick, not
   * per frame: the probe costs about as much as routing a tell.
   */
  refreshTraceContext(): void {
    this.#traceCtx = hasContextManager();
  }

  /** A frame (or a fragment) arrived on `link`. */
  onFrame(link: Link, frame: DecodedFrame): void {
    const d = this.#d;
    d.stats.framesIn++;
    const m = d.members.get(link.peer);
    if (
      m === undefined || m.incarnation !== link.incarnation ||
      m.status === "down"
    ) return;
    m.detector.heartbeat(performance.now());
    if (frame.problem !== undefined) {
      d.stats.framesDropped++;
      if (frame.problem === "bad-fragment") d.stats.fragmentsDropped++;
      d.warn(
        `dropped a frame from ${link.peer}: ${frame.problem}` +
          (frame.problem === "too-large"
            ? ` (${frame.bytes} bytes, max ${link.maxFrameBytes})`
            : frame.detail !== undefined
            ? ` (${frame.detail})`
            : ""),
      );
      return;
    }
    if (frame.invalid > 0) {
      d.stats.envelopesDropped += frame.invalid;
      d.warn(
        `dropped ${frame.invalid} malformed envelope(s) from ${link.peer}`,
      );
    }
    const envs = frame.envelopes;
    for (let i = 0; i < envs.length; i++) {
      this.#onEnvelope(link, envs[i], frame.hasRefs);
    }
  }

  #onEnvelope(link: Link, env: Envelope, hasRefs: boolean): void {
    const d = this.#d;
    switch (env[0]) {
      case Kind.TELL: {
        const [, path, raw, tp] = env;
        const msg = this.#check(link, path, raw, hasRefs);
        if (msg === INVALID) return;
        d.stats.tellsIn++;
        withTraceparent(
          tp,
          () => d.system.deliver(path, msg, tp),
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
        const to = d.asks.target(env[1]);
        if (to === undefined || to.node !== link.peer) {
          return this.#stray(link, env[1]);
        }
        d.asks.settle(
          env[1],
          hasRefs ? this.#revive(env[2]) : env[2],
          undefined,
        );
        return;
      }
      case Kind.FAIL: {
        const to = d.asks.target(env[1]);
        if (to === undefined || to.node !== link.peer) {
          return this.#stray(link, env[1]);
        }
        d.asks.fail(env[1], env[2], env[3], link.peer);
        return;
      }
      case Kind.WATCH:
        d.watches.onWatch(link.peer, env[1], env[2]);
        return;
      case Kind.UNWATCH:
        d.watches.onUnwatch(link.peer, env[1], env[2]);
        return;
      case Kind.TERMINATED: {
        const [, , target, reason, tp] = env;
        withTraceparent(
          tp,
          () => d.watches.onTerminated(link.peer, target, reason),
          this.#traceCtx,
        );
        return;
      }
      case Kind.HEARTBEAT:
        return; // the frame already counted as a sign of life
      case Kind.PING:
        link.sendUrgent(encodeEnvelope([Kind.PONG, env[1]]));
        return;
      case Kind.PONG:
        d.liveness.onPong(link, env[1]);
        return;
      case Kind.LEAVE: {
        const m = d.members.get(link.peer);
        if (m !== undefined) d.liveness.markDown(m, "left");
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
  ): void {
    const d = this.#d;
    const reply = new RemoteReply(this, link, id, tp);
    let msg: unknown;
    try {
      msg = this.#check(link, path, raw, hasRefs, true);
    } catch (err) {
      reply.reject(err);
      return;
    }
    d.stats.asksIn++;
    const sys = d.system;
    try {
      withTraceparent(tp, () => {
        if (sys.deliverWithReply !== undefined) {
          sys.deliverWithReply(path, msg, reply);
        } else {
          // A stand-in system without the reply hook: the promise way.
          sys.deliverAsk(path, msg, { timeoutMs }).then(
            (v) => reply.resolve(v),
            (e) => reply.reject(e),
          );
        }
      }, this.#traceCtx);
    } catch (err) {
      reply.reject(err);
    }
  }

  /**
   * Sends the answer to ask `id` to `link`'s peer, on its newest link (the
   * one the ask came on may have closed). An answer too large to send
   * fails the ask instead.
   */
  answer(
    link: Link,
    id: number,
    value: unknown,
    error: unknown,
    tp: string,
  ): void {
    const max = this.#d.maxMessageBytes;
    let encoded: string;
    try {
      encoded = error === undefined
        ? encodeReply(id, value, tp, max)
        : encodeEnvelope(failEnvelope(id, error, tp), max);
    } catch (err) {
      encoded = encodeEnvelope(failEnvelope(id, err, tp));
    }
    (this.#d.members.linkTo(link.peer) ?? link).sendUrgent(encoded);
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
    const schema = this.#d.schemas.lookup(path);
    if (schema === undefined) return msg;
    const r = schema.safeParse(msg);
    if (r.success) return r.data;
    this.#d.stats.envelopesDropped++;
    const err = new InvalidMessageError(path, r.error.message);
    this.#d.warn(`dropped a message from ${link.peer}: ${err.message}`);
    if (throwOnInvalid) throw err;
    return INVALID;
  }

  #revive(value: unknown): unknown {
    const sys = this.#d.system;
    return reviveRefs(value, (a) => sys.refFor(a) as ActorRef);
  }

  #stray(link: Link, id: number): void {
    this.#d.stats.envelopesDropped++;
    this.#d.warn(`dropped a reply from ${link.peer} to unknown ask ${id}`);
  }
}

/** Answers one remote ask: REPLY with the value, or FAIL with the error's name and message. */
class RemoteReply implements Reply {
  #done = false;

  constructor(
    readonly inbound: Inbound,
    readonly link: Link,
    readonly id: number,
    /** As received; the runtime checks it where it is read. */
    readonly traceparent: string,
  ) {}

  resolve(value: unknown): void {
    if (this.#done) return;
    this.#done = true;
    this.inbound.answer(this.link, this.id, value, undefined, this.traceparent);
  }

  reject(error: unknown): void {
    if (this.#done) return;
    this.#done = true;
    this.inbound.answer(
      this.link,
      this.id,
      undefined,
      error ?? new Error("rejected"),
      this.traceparent,
    );
  }
}

function failEnvelope(id: number, err: unknown, tp: string): unknown[] {
  return [
    Kind.FAIL,
    id,
    (err instanceof Error ? err.name : "Error").slice(0, 256),
    (err instanceof Error ? err.message : String(err)).slice(0, 65_536),
    tp,
  ];
}
