/**
 * The actor system: the user guardian (`/user`), the path registry, dead
 * letters, routing of local and remote refs, the inbound hooks the cluster
 * calls (`deliver`, `deliverAsk`, `signalTerminated`, `watchFor`,
 * `unwatchFor`), and entity regions.
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
import { RemoteStopError } from "./errors.ts";
import type { Reply } from "./mailbox.ts";
import { EntityRegion, PathRegistry } from "./registry.ts";
import { LocalRef, RemoteRef } from "./ref.ts";
import {
  Actor,
  type ActorRef,
  type ActorSystemApi,
  type Address,
  type AskOptions,
  DeadLetterError,
  type Entities,
  type EntityOptions,
  MailboxOverflowError,
  type SpawnOptions,
  type StopReason,
  type SupervisorStrategy,
  type Transport,
} from "./types.ts";

/** Severity of a runtime log line. */
export type LogLevel = "info" | "warn" | "error";
/** Where the runtime reports what it cannot throw (escalations to the guardian, abandoned stops, throwing hooks). */
export type Logger = (
  level: LogLevel,
  message: string,
  error?: unknown,
) => void;

/** Options of {@link ActorSystem}. */
export interface ActorSystemOptions {
  /** This node's id in refs. @default {a random "node-…" id} */
  nodeId?: string;
  /** How the user guardian supervises top-level actors; escalation from it stops the failed actor. @default one_for_one, restart, 3 in 5 s */
  guardianStrategy?: SupervisorStrategy;
  /** @default console.error / console.warn */
  logger?: Logger;
}

const consoleLogger: Logger = (level, message, error) => {
  const line = `[actors] ${message}`;
  if (level === "error") console.error(line, error ?? "");
  else if (level === "warn") console.warn(line, error ?? "");
  else console.info(line);
};

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

function key(a: Address): string {
  return a.node + "\n" + a.path;
}

interface RemoteWatch {
  address: Address;
  watchers: Set<Cell>;
}

/** A local actor system; see the module doc. */
export class ActorSystem implements ActorSystemApi {
  readonly nodeId: string;
  readonly deadLetters: DeadLetters = new DeadLetters();
  /** Live actors by path, and entity regions. */
  readonly registry: PathRegistry = new PathRegistry();
  /** The cross-node transport, once installed. */
  transport: Transport | undefined = undefined;
  /** `/user`: parent of every top-level actor. */
  readonly guardian: Cell;
  readonly #logger: Logger;
  #names = 0;
  readonly #remoteWatches = new Map<string, RemoteWatch>();

  constructor(options: ActorSystemOptions = {}) {
    this.nodeId = options.nodeId ??
      `node-${crypto.randomUUID().slice(0, 8)}`;
    this.#logger = options.logger ?? consoleLogger;
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

  deliver(path: string, msg: unknown): boolean {
    const c = this.registry.get(path);
    const to = { node: this.nodeId, path };
    try {
      if (c !== undefined && c.post(msg, undefined)) return true;
      const region = this.registry.regionFor(path);
      if (
        region !== undefined &&
        region.route(path.slice(region.path.length + 1), msg, undefined)
      ) return true;
    } catch (e) {
      if (!(e instanceof MailboxOverflowError)) throw e;
      this.deadLetter(to, msg, "mailbox full");
      return false;
    }
    this.deadLetter(
      to,
      msg,
      c === undefined ? "no such actor" : "actor stopped",
    );
    return false;
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
    const t = this.transport;
    if (t === undefined) {
      watcher.signal({
        type: "Terminated",
        ref: target,
        reason: { kind: "node-down", node: target.node },
      });
      return;
    }
    const k = key(target);
    let w = this.#remoteWatches.get(k);
    if (w === undefined) {
      w = {
        address: { node: target.node, path: target.path },
        watchers: new Set(),
      };
      this.#remoteWatches.set(k, w);
    }
    if (w.watchers.has(watcher)) return;
    w.watchers.add(watcher);
    (watcher.watching ??= new Set()).add(k);
    t.watch(w.address, { node: this.nodeId, path: watcher.path });
  }

  unwatchRemote(target: ActorRef, watcher: Cell): void {
    this.unwatchRemoteKey(key(target), watcher);
  }

  unwatchRemoteKey(k: string, watcher: Cell): void {
    watcher.watching?.delete(k);
    const w = this.#remoteWatches.get(k);
    if (w === undefined || !w.watchers.delete(watcher)) return;
    if (w.watchers.size === 0) this.#remoteWatches.delete(k);
    this.transport?.unwatch(w.address, {
      node: this.nodeId,
      path: watcher.path,
    });
  }

  signalTerminated(address: Address, reason: StopReason): void {
    const k = key(address);
    const w = this.#remoteWatches.get(k);
    if (w === undefined) return;
    this.#remoteWatches.delete(k);
    const ref = this.refFor(address);
    for (const cell of w.watchers) {
      cell.watching?.delete(k);
      cell.signal({ type: "Terminated", ref, reason });
    }
  }

  /** Every local watch of an actor on `node` gets Terminated with reason node-down. */
  signalNodeDown(node: string): void {
    for (const w of [...this.#remoteWatches.values()]) {
      if (w.address.node === node) {
        this.signalTerminated(w.address, { kind: "node-down", node });
      }
    }
  }

  watchFor(target: string, watcher: Address): void {
    const c = this.registry.get(target);
    const w = { node: watcher.node, path: watcher.path };
    if (c === undefined || c.state === STOPPED) {
      this.transport?.tell(w, {
        type: "Terminated",
        ref: this.refFor({ node: this.nodeId, path: target }),
        reason: NORMAL,
      });
      return;
    }
    (c.remoteWatchers ??= new Map()).set(key(w), w);
  }

  unwatchFor(target: string, watcher: Address): void {
    this.registry.get(target)?.remoteWatchers?.delete(key(watcher));
  }
}
