/**
 * The actor system: the user guardian (`/user`), the path registry, dead
 * letters, routing of local and remote refs, the inbound hooks the cluster
 * calls (`deliver`, `deliverWithReply`, `deliverAsk`, `signalTerminated`,
 * `watchFor`, `unwatchFor`), entity regions, and what a metrics collector
 * reads (`deadLetters`, `mailboxDepths`).
 *
 * @example A counter
 * ```ts
 * import { Actor, ActorSystem } from "./mod.ts";
 * class Counter extends Actor<"inc" | "get"> {
 *   n = 0;
 *   receive(msg: "inc" | "get") {
 *     if (msg === "inc") this.n++;
 *     return this.n;
 *   }
 * }
 * const system = new ActorSystem({ nodeId: "n1" });
 * const c = system.spawn(() => new Counter(), { name: "counter" });
 * c.tell("inc");
 * if (await c.ask("get") !== 1) throw new Error("unexpected");
 * await system.shutdown();
 * ```
 *
 * @module
 */

import {
  Cell,
  DEFAULT_SHUTDOWN_MS,
  NORMAL,
  RUNNING,
  STOPPED,
  stopWithin,
} from "./cell.ts";
import { DeadLetters } from "./dead_letters.ts";
import { RemoteWatches } from "./death_watch.ts";
import { EntityRegion } from "./entities.ts";
import { RemoteStopError } from "./errors.ts";
import type { CellHost, RegionLike } from "./host.ts";
import { consoleLogger, type Logger, type LogLevel } from "./log.ts";
import { PathRegistry } from "./registry.ts";
import { LocalRef, RemoteRef } from "./ref.ts";
import { traceTag } from "./trace_context.ts";
import {
  Actor,
  type ActorRef,
  type Address,
  type AskOptions,
  DeadLetterError,
  type Entities,
  type EntityOptions,
  type MailboxDepth,
  MailboxOverflowError,
  type Reply,
  type SpawnOptions,
  type StopReason,
  type SupervisorStrategy,
  type Transport,
} from "./types.ts";

export type { Logger, LogLevel } from "./log.ts";

/** Options of {@link ActorSystem}. */
export interface ActorSystemOptions {
  /** This node's id in refs. @default {a random "node-…" id} */
  nodeId?: string;
  /** How the user guardian supervises top-level actors; escalation from it stops the failed actor. @default one_for_one, restart, 3 in 5 s */
  guardianStrategy?: SupervisorStrategy;
  /** @default console.error / console.warn */
  logger?: Logger;
}

/** The user guardian: supervises top-level actors, handles no messages. */
class Guardian extends Actor<never> {
  constructor(readonly strategy: SupervisorStrategy | undefined) {
    super();
  }
  receive(): void {}
  override supervisorStrategy(): SupervisorStrategy {
    return this.strategy ?? { kind: "one_for_one" };
  }
}

/** A local actor system; see the module doc. */
export class ActorSystem implements CellHost<Cell> {
  readonly nodeId: string;
  readonly deadLetters: DeadLetters = new DeadLetters();
  /** Live actors by path, and entity regions. */
  readonly registry: PathRegistry<Cell, RegionLike> = new PathRegistry();
  /** The cross-node transport, once installed. */
  transport: Transport | undefined = undefined;
  /** `/user`: parent of every top-level actor. */
  readonly guardian: Cell;
  readonly #logger: Logger;
  #names = 0;
  readonly #remote: RemoteWatches<Cell>;

  constructor(options: ActorSystemOptions = {}) {
    this.nodeId = options.nodeId ??
      `node-${crypto.randomUUID().slice(0, 8)}`;
    this.#logger = options.logger ?? consoleLogger;
    this.#remote = new RemoteWatches<Cell>({
      nodeId: this.nodeId,
      transport: () => this.transport,
      liveCell: (path) => {
        const c = this.registry.get(path);
        return c === undefined || c.state === STOPPED ? undefined : c;
      },
      refFor: (a) => this.refFor(a),
    });
    const factory = () => new Guardian(options.guardianStrategy);
    this.guardian = new Cell(
      this,
      undefined,
      "user",
      "/user",
      factory as () => Actor<unknown>,
      0,
      DEFAULT_SHUTDOWN_MS,
    );
    const g = factory();
    g.ctx = this.guardian as Cell<never>;
    this.guardian.instance = g as Actor<unknown>;
    this.registry.register("/user", this.guardian);
  }

  /** Reports through the configured logger. */
  log(level: LogLevel, message: string, error?: unknown): void {
    this.#logger(level, message, error);
  }

  /** A fresh name for an unnamed actor (unique in this system). */
  nextName(): string {
    return "$" + (this.#names++).toString(36);
  }

  spawn<M>(factory: () => Actor<M>, options?: SpawnOptions): ActorRef<M> {
    return this.guardian.spawnChild(factory, options).ref;
  }

  /** Stops a local actor within its `shutdownMs` (children first). */
  stop(ref: ActorRef): Promise<void> {
    if (ref.node !== this.nodeId) {
      return Promise.reject(new RemoteStopError(ref.node, ref.path));
    }
    const c = this.registry.get(ref.path);
    return c === undefined ? Promise.resolve() : stopWithin(c, NORMAL);
  }

  refFor<M = unknown>(address: Address): ActorRef<M> {
    if (address.node !== this.nodeId) {
      return new RemoteRef<M>(this, address.node, address.path);
    }
    const c = this.registry.get(address.path);
    if (c !== undefined && c.state !== STOPPED) return c.ref as ActorRef<M>;
    return new LocalRef<M>(this, this.nodeId, address.path, undefined);
  }

  entities<M>(
    kind: string,
    factory: (id: string) => Actor<M>,
    options?: EntityOptions,
  ): Entities<M> {
    return new EntityRegion<M>(this, kind, factory, options);
  }

  /**
   * Stops every actor (children first, reverse start order, each within its
   * `shutdownMs`); whatever is still stopping after `deadlineMs` is
   * abandoned. Afterwards spawning throws `ActorStoppingError` and
   * messages become dead letters.
   */
  async shutdown(options: { deadlineMs?: number } = {}): Promise<void> {
    const g = this.guardian;
    if (g.state === STOPPED) return;
    const deadlineMs = options.deadlineMs ?? 10_000;
    const done = g.terminate(NORMAL);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        g.abandon();
        resolve();
      }, deadlineMs);
    });
    try {
      await Promise.race([done, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  setTransport(transport: Transport): void {
    this.transport = transport;
  }

  // -------------------------------------------------------------- telemetry

  /** Live actors (the guardian and entity regions included). */
  get actorCount(): number {
    return this.registry.size;
  }

  /**
   * Actors whose mailbox holds at least `min` user messages (default 1),
   * lazily, in one pass over the live actors: what a metrics collector
   * samples to find hot or stuck actors.
   */
  *mailboxDepths(min = 1): IterableIterator<MailboxDepth> {
    const floor = Math.max(1, min);
    for (const c of this.registry.cells()) {
      const depth = c.mailbox?.size ?? 0;
      if (depth >= floor) yield { path: c.path, depth };
    }
  }

  // ---------------------------------------------------------------- routing

  /** Records a dead letter. */
  deadLetter(to: Address, msg: unknown, reason: string): void {
    this.deadLetters.publish(to, msg, reason);
  }

  /** Local delivery by path: the live actor there, an entity region, or a dead letter. */
  route(ref: LocalRef, msg: unknown, reply: Reply | undefined): void {
    const c = this.registry.get(ref.path);
    if (c !== undefined && c.state === RUNNING) {
      ref.cell = c;
      if (c.post(msg, reply)) return;
    }
    const region = this.registry.regionFor(ref.path);
    if (
      region !== undefined &&
      region.route(ref.path.slice(region.path.length + 1), msg, reply)
    ) return;
    const reason = c === undefined ? "no such actor" : "actor stopped";
    this.deadLetter(ref, msg, reason);
    reply?.reject(new DeadLetterError(ref, reason));
  }

  deliver(path: string, msg: unknown, traceparent?: string): boolean {
    const c = this.registry.get(path);
    const tag = traceTag(traceparent);
    try {
      if (c !== undefined && c.post(msg, tag)) return true;
      const region = this.registry.regionFor(path);
      if (
        region !== undefined &&
        region.route(path.slice(region.path.length + 1), msg, tag)
      ) return true;
    } catch (e) {
      if (!(e instanceof MailboxOverflowError)) throw e;
      this.deadLetter({ node: this.nodeId, path }, msg, "mailbox full");
      return false;
    }
    this.deadLetter(
      { node: this.nodeId, path },
      msg,
      c === undefined ? "no such actor" : "actor stopped",
    );
    return false;
  }

  deliverWithReply(path: string, msg: unknown, reply: Reply): void {
    const c = this.registry.get(path);
    try {
      if (c !== undefined && c.post(msg, reply)) return;
      this.route(
        c?.ref ?? new LocalRef(this, this.nodeId, path, undefined),
        msg,
        reply,
      );
    } catch (e) {
      reply.reject(e); // a full mailbox: MailboxOverflowError
    }
  }

  deliverAsk(
    path: string,
    msg: unknown,
    options?: AskOptions,
  ): Promise<unknown> {
    return this.refFor({ node: this.nodeId, path }).ask(msg, options);
  }

  // ------------------------------------------------------------ death watch

  /** A local `watcher` watches a remote ref (through the transport). */
  watchRemote(target: ActorRef, watcher: Cell): void {
    this.#remote.watchRemote(target, watcher);
  }

  unwatchRemote(target: ActorRef, watcher: Cell): void {
    this.#remote.unwatchRemote(target, watcher);
  }

  unwatchRemoteKey(k: string, watcher: Cell): void {
    this.#remote.unwatchRemoteKey(k, watcher);
  }

  signalTerminated(address: Address, reason: StopReason): void {
    this.#remote.signalTerminated(address, reason);
  }

  /** Every local watch of an actor on `node` gets Terminated with reason node-down. */
  signalNodeDown(node: string): void {
    this.#remote.signalNodeDown(node);
  }

  watchFor(target: string, watcher: Address): void {
    this.#remote.watchFor(target, watcher);
  }

  unwatchFor(target: string, watcher: Address): void {
    this.#remote.unwatchFor(target, watcher);
  }
}
