/**
 * The public contract of the actor runtime. Generic: nothing here knows of
 * sessions, agents or Docker. `system.ts` implements it; `actors/cluster`
 * plugs a {@link Transport} into it to make refs location-transparent.
 *
 * @module
 */

/** Where an actor lives: the node that hosts it and its path there. */
export interface Address {
  /** Node id of the hosting node (the local system's `nodeId` for local actors). */
  readonly node: string;
  /** Slash-separated path from the root guardian, e.g. `/user/sessions/s-1`. */
  readonly path: string;
}

/** Options of {@link ActorRef.ask}. */
export interface AskOptions {
  /**
   * Milliseconds before the ask fails with an {@link AskTimeoutError}.
   * @default {5000}
   */
  timeoutMs?: number;
  /** Aborts the ask early (rejects with the signal's reason). */
  signal?: AbortSignal;
}

/**
 * A handle to an actor, local or remote; the same code talks to both.
 * `toJSON()` yields `{ "$ref": { node, path } }` so refs can travel inside
 * messages; the cluster revives them on receipt.
 */
export interface ActorRef<M = unknown> extends Address {
  /** Fire and forget. Undeliverable messages become dead letters. */
  tell(msg: M): void;
  /**
   * Request/response: resolves with the value the target's `receive`
   * returned (or resolved to) for this message; rejects with the error it
   * threw, an {@link AskTimeoutError}, or a {@link DeadLetterError} when the
   * target does not exist.
   */
  ask<R = unknown>(msg: M, options?: AskOptions): Promise<R>;
  toJSON(): { $ref: Address };
}

/** Why an actor stopped. */
export type StopReason =
  | { kind: "normal" }
  | { kind: "failure"; error: string }
  | { kind: "node-down"; node: string };

/** System message delivered to watchers when a watched actor stops. */
export interface Terminated {
  readonly type: "Terminated";
  readonly ref: ActorRef;
  readonly reason: StopReason;
}

/** What a supervisor does with a failed child. */
export type Directive = "restart" | "resume" | "stop" | "escalate";

/** Erlang/OTP supervision strategy for an actor's children. */
export interface SupervisorStrategy {
  /** one_for_one: only the failed child; one_for_all: every child; rest_for_one: the failed child and those started after it. */
  kind: "one_for_one" | "one_for_all" | "rest_for_one";
  /** Decides the directive from the error. @default {() => "restart"} */
  decide?: (error: unknown, child: ActorRef) => Directive;
  /** Restart intensity: at most `maxRestarts` within `withinMs`, else escalate. @default {3} */
  maxRestarts?: number;
  /** @default {5000} */
  withinMs?: number;
}

/** Options of {@link ActorContext.spawn} and {@link ActorSystemApi.spawn}. */
export interface SpawnOptions {
  /** Unique among siblings; generated when absent. */
  name?: string;
  /** Mailbox bound; a tell beyond it throws {@link MailboxOverflowError}. Unbounded when absent. */
  mailboxBound?: number;
  /** Milliseconds a child gets to stop (postStop included) before it is abandoned. @default {5000} */
  shutdownMs?: number;
}

/** What an actor sees of the runtime while handling a message. */
export interface ActorContext<M> {
  readonly self: ActorRef<M>;
  readonly parent: ActorRef | undefined;
  readonly system: ActorSystemApi;
  /** Start a child supervised by this actor. */
  spawn<C>(factory: () => Actor<C>, options?: SpawnOptions): ActorRef<C>;
  /** Stop a child (or self when omitted): children first, in reverse start order. */
  stop(ref?: ActorRef): Promise<void>;
  /** Deliver `Terminated` to this actor's `onTerminated` when `ref` stops (also when its node goes down). */
  watch(ref: ActorRef): void;
  unwatch(ref: ActorRef): void;
  /** Live children in start order. */
  children(): ActorRef[];
  child(name: string): ActorRef | undefined;
  /**
   * The W3C `traceparent` of the message being handled, when it carried one
   * (a message from another node always does; a local one when it was sent
   * while handling a traced message). A span continues the caller's trace
   * from it. Kept until the `receive` of that message settles; a deferred
   * reply (`replyLater`) should read it synchronously. Optional only so that
   * stand-in contexts need not implement it.
   */
  readonly traceparent?: string | undefined;
}

/**
 * The callbacks an actor supplies (OTP gen_server style). The runtime calls
 * them one at a time: an async `receive` finishes before the next message.
 * A factory makes a fresh instance on every (re)start, so state is reset.
 */
export abstract class Actor<M> {
  /** Set by the runtime before `preStart`. */
  ctx!: ActorContext<M>;
  /** Called once per incarnation before the first message. */
  preStart?(): void | Promise<void>;
  /** Handle one message; the returned value answers an `ask`. */
  abstract receive(msg: M): unknown;
  /** A watched actor stopped. */
  onTerminated?(t: Terminated): void | Promise<void>;
  /** On the failed incarnation, before it is replaced. */
  preRestart?(error: unknown): void | Promise<void>;
  /** After the actor and all its children stopped. */
  postStop?(): void | Promise<void>;
  /** How this actor supervises its children. @default one_for_one, always restart, 3 in 5 s */
  supervisorStrategy?(): SupervisorStrategy;
}

/**
 * Settles one `ask`: the runtime calls exactly one of `resolve`/`reject`
 * with the target's answer. A transport passes its own to
 * {@link ActorSystemApi.deliverWithReply} to answer a remote asker.
 */
export interface Reply {
  resolve(value: unknown): void;
  reject(error: unknown): void;
  /** The W3C `traceparent` the message carries, if any (see {@link ActorContext.traceparent}). */
  readonly traceparent?: string | undefined;
}

/** One entry of {@link ActorSystemApi.mailboxDepths}. */
export interface MailboxDepth {
  readonly path: string;
  /** User messages waiting (the one being handled not counted). */
  readonly depth: number;
}

/** A message that could not be delivered. */
export interface DeadLetter {
  readonly to: Address;
  readonly message: unknown;
  readonly reason: string;
}

/**
 * Plugged in by `actors/cluster`: carries messages to refs on other nodes.
 * The runtime never imports the cluster; it calls these hooks for any ref
 * whose `node` differs from its own `nodeId`.
 */
export interface Transport {
  tell(to: Address, msg: unknown): void;
  ask(to: Address, msg: unknown, options: AskOptions): Promise<unknown>;
  /** Ask the remote node to send `Terminated` for `target` to the local `watcher`. */
  watch(target: Address, watcher: Address): void;
  unwatch(target: Address, watcher: Address): void;
}

/*
 * When a local actor watched by a remote watcher stops, the runtime sends
 * the watcher a `Terminated` (`{ type: "Terminated", ref, reason }`) through
 * `Transport.tell`; the cluster carries it and the other side calls
 * `signalTerminated`.
 */

/** The surface of the actor system that actors, the cluster and tests use. */
export interface ActorSystemApi {
  readonly nodeId: string;
  /** Start a top-level actor under the user guardian (`/user/NAME`). */
  spawn<M>(factory: () => Actor<M>, options?: SpawnOptions): ActorRef<M>;
  /** A ref for any address; local when `node` is this node. */
  refFor<M = unknown>(address: Address): ActorRef<M>;
  /** Stop everything, children first, within the deadline. */
  shutdown(options?: { deadlineMs?: number }): Promise<void>;
  /** Dead letters seen so far, and a hook to observe new ones. */
  readonly deadLetters: {
    readonly count: number;
    subscribe(fn: (d: DeadLetter) => void): () => void;
    /** Counts by reason ("no such actor", "actor stopped", "mailbox full"...). Optional for stand-ins. */
    byReason?(): Record<string, number>;
  };
  /** Install the cross-node transport. */
  setTransport(transport: Transport): void;
  /**
   * Inbound from the transport: deliver a tell to a local path, with the
   * envelope's `traceparent` when it has one. Returns false (and records a
   * dead letter) when no actor lives there.
   */
  deliver(path: string, msg: unknown, traceparent?: string): boolean;
  /** Inbound from the transport: deliver an ask to a local path and settle with its answer. */
  deliverAsk(
    path: string,
    msg: unknown,
    options?: AskOptions,
  ): Promise<unknown>;
  /**
   * Inbound from the transport: deliver an ask whose answer goes to `reply`
   * (its `traceparent` travels with the message). No local timeout: the
   * remote asker keeps its own. A missing actor or a full mailbox rejects
   * `reply`. Optional for stand-ins; a transport falls back to
   * {@link deliverAsk}.
   */
  deliverWithReply?(path: string, msg: unknown, reply: Reply): void;
  /** Inbound from the transport: a remote actor stopped (or its node went down); notify local watchers. */
  signalTerminated(address: Address, reason: StopReason): void;
  /** Inbound from the transport: a remote `watcher` watches a local `target`. */
  watchFor(target: string, watcher: Address): void;
  unwatchFor(target: string, watcher: Address): void;
  /**
   * Lazily activated entities of one kind (virtual actors): see {@link Entities}.
   * Optional only so that stand-in systems need not implement it; the
   * runtime's `ActorSystem` always does.
   */
  entities?<M>(
    kind: string,
    factory: (id: string) => Actor<M>,
    options?: EntityOptions,
  ): Entities<M>;
  /** Stop any local actor (children first) within its `shutdownMs`. Optional for stand-ins; `ActorSystem` implements it. */
  stop?(ref: ActorRef): Promise<void>;
  /**
   * Local actors whose mailbox holds at least `min` messages (default 1),
   * for a metrics collector; one pass over the live actors, lazily.
   * Optional for stand-ins; `ActorSystem` implements it.
   */
  mailboxDepths?(min?: number): IterableIterator<MailboxDepth>;
}

/** Options of {@link ActorSystemApi.entities}. */
export interface EntityOptions {
  /** An entity with no message for this long is passivated (stopped). @default {120000} */
  idleMs?: number;
  /** Mailbox bound of each entity. Unbounded when absent. */
  mailboxBound?: number;
  /** Milliseconds an entity gets to stop (postStop included). @default {5000} */
  shutdownMs?: number;
}

/**
 * Entities of one kind, living at `/user/KIND/ID`: an entity is activated by
 * its first message, passivated after `idleMs` without messages and
 * re-activated by the next one (its `preStart` reloads durable state).
 * Messages sent while it passivates are kept and delivered to the next
 * incarnation, in order.
 */
export interface Entities<M> {
  readonly kind: string;
  /** A ref to `KIND/ID`; sending through it activates the entity when needed. */
  ref(id: string): ActorRef<M>;
  /** Number of entities currently active (passivating ones included). */
  readonly active: number;
  /** Passivate one entity now (resolves when it stopped; at once if inactive). */
  passivate(id: string): Promise<void>;
}

/** An ask got no answer in time. */
export class AskTimeoutError extends Error {
  override name = "AskTimeoutError";
  constructor(readonly to: Address, readonly timeoutMs: number) {
    super(`ask to ${to.node}${to.path} timed out after ${timeoutMs} ms`);
  }
}

/** The target does not exist (or stopped). */
export class DeadLetterError extends Error {
  override name = "DeadLetterError";
  constructor(readonly to: Address, reason = "no such actor") {
    super(`${reason}: ${to.node}${to.path}`);
  }
}

/** A bounded mailbox is full. */
export class MailboxOverflowError extends Error {
  override name = "MailboxOverflowError";
  constructor(readonly to: Address, readonly bound: number) {
    super(`mailbox of ${to.path} is full (bound ${bound})`);
  }
}
