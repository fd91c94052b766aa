/**
 * Actor refs. A ref is an address (node, path) plus a way to send there:
 * a {@link LocalRef} caches the actor cell it points to (one ref per actor,
 * created with it) and falls back to a path lookup when that cell stopped,
 * so a ref reaches whatever incarnation lives at its path, like a remote
 * ref does; a {@link RemoteRef} hands everything to the transport.
 * A local send made while an actor handles a traced message carries that
 * trace context on (see `trace_context.ts`).
 *
 * @module
 */

import { PendingAsk } from "./ask.ts";
import { activeTrace, current, traceTag } from "./trace_context.ts";
import { ambient } from "./trace_scope.ts";
import {
  type ActorRef,
  type Address,
  type AskOptions,
  DeadLetterError,
  type Reply,
  type Transport,
} from "./types.ts";

/** Default of {@link AskOptions.timeoutMs}. */
export const DEFAULT_ASK_TIMEOUT_MS = 5000;

/** What a local ref needs of its cell. */
export interface Postable {
  /** Enqueues; false when the actor no longer accepts messages. Throws on overflow. */
  post(msg: unknown, reply: Reply | undefined): boolean;
}

/** What refs need of the system. */
export interface RefHost {
  readonly nodeId: string;
  readonly transport: Transport | undefined;
  /** Delivers to a local path by lookup (re-caching the cell) or records a dead letter. */
  route(ref: LocalRef, msg: unknown, reply: Reply | undefined): void;
  deadLetter(to: Address, msg: unknown, reason: string): void;
}

/** A ref to an actor on this node. */
export class LocalRef<M = unknown> implements ActorRef<M> {
  #host: RefHost;
  /** The cell last known to live at {@link path}; refreshed by the system on lookup. */
  cell: Postable | undefined;

  constructor(
    host: RefHost,
    readonly node: string,
    readonly path: string,
    cell: Postable | undefined,
  ) {
    this.#host = host;
    this.cell = cell;
  }

  tell(msg: M): void {
    if (ambient !== undefined) {
      const tp = ambient() ?? current;
      if (tp !== undefined) return this.#tellTraced(msg, tp);
    } else if (current !== undefined) return this.#tellTraced(msg, current);
    const c = this.cell;
    if (c !== undefined && c.post(msg, undefined)) return;
    this.#host.route(this as LocalRef, msg, undefined);
  }

  /** A tell sent while handling a traced message: the trace goes along. */
  #tellTraced(msg: M, traceparent: string): void {
    const tag = traceTag(traceparent);
    const c = this.cell;
    if (c !== undefined && c.post(msg, tag)) return;
    this.#host.route(this as LocalRef, msg, tag);
  }

  ask<R = unknown>(msg: M, options?: AskOptions): Promise<R> {
    const reply = new PendingAsk(
      this,
      options?.timeoutMs ?? DEFAULT_ASK_TIMEOUT_MS,
      options?.signal,
      activeTrace(),
    );
    if (reply.settled) return reply.promise as Promise<R>;
    try {
      const c = this.cell;
      if (c === undefined || !c.post(msg, reply)) {
        this.#host.route(this as LocalRef, msg, reply);
      }
    } catch (e) {
      reply.reject(e);
    }
    return reply.promise as Promise<R>;
  }

  toJSON(): { $ref: Address } {
    return { $ref: { node: this.node, path: this.path } };
  }
}

/** A ref to an actor on another node: everything goes through the transport. */
export class RemoteRef<M = unknown> implements ActorRef<M> {
  #host: RefHost;

  constructor(host: RefHost, readonly node: string, readonly path: string) {
    this.#host = host;
  }

  tell(msg: M): void {
    const t = this.#host.transport;
    if (t === undefined) {
      this.#host.deadLetter(this, msg, "no transport");
      return;
    }
    t.tell({ node: this.node, path: this.path }, msg);
  }

  ask<R = unknown>(msg: M, options?: AskOptions): Promise<R> {
    const t = this.#host.transport;
    if (t === undefined) {
      this.#host.deadLetter(this, msg, "no transport");
      return Promise.reject(new DeadLetterError(this, "no transport"));
    }
    return t.ask({ node: this.node, path: this.path }, msg, {
      timeoutMs: options?.timeoutMs ?? DEFAULT_ASK_TIMEOUT_MS,
      signal: options?.signal,
    }) as Promise<R>;
  }

  toJSON(): { $ref: Address } {
    return { $ref: { node: this.node, path: this.path } };
  }
}
