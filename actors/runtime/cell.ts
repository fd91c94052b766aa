/**
 * The actor cell: one per actor. On top of the loop (`actor_loop.ts`) it
 * carries out lifecycle and supervision (start, stop, restart, escalate)
 * and links the actor into the tree (parent, children, registry, death
 * watch). It is also the actor's {@link ActorContext}, which saves an
 * object per actor.
 *
 * It sees the system only through {@link CellHost}, so it does not import
 * `system.ts`.
 *
 * @module
 */

import {
  ActorLoop,
  failure,
  RUNNING,
  STOPPED,
  STOPPING,
} from "./actor_loop.ts";
import { type Expirable, timeouts } from "./ask.ts";
import { schedule } from "./dispatcher.ts";
import {
  addWatch,
  releaseWatches,
  removeWatch,
  type WatchNode,
  type WatchState,
} from "./death_watch.ts";
import {
  ActorStoppingError,
  InvalidActorNameError,
  RemoteStopError,
} from "./errors.ts";
import type { CellHost } from "./host.ts";
import { LocalRef } from "./ref.ts";
import {
  restartInOrder,
  RestartIntensity,
  superviseFailure,
} from "./supervision.ts";
import {
  type Actor,
  type ActorContext,
  type ActorRef,
  type ActorSystemApi,
  DeadLetterError,
  type Reply,
  type SpawnOptions,
  type StopReason,
  type Terminated,
} from "./types.ts";

export { RUNNING, STOPPED, STOPPING } from "./actor_loop.ts";

/** Default of {@link SpawnOptions.shutdownMs}. */
export const DEFAULT_SHUTDOWN_MS = 5000;

/** The reason of an orderly stop. */
export const NORMAL: StopReason = Object.freeze({ kind: "normal" });

type Ctrl =
  | { k: "start" }
  | { k: "stop" }
  | { k: "resume" }
  | { k: "failed"; child: Cell; error: unknown }
  | { k: "down"; error: unknown; done: () => void }
  | { k: "up"; done: () => void };

const START: Ctrl = { k: "start" };
const STOP: Ctrl = { k: "stop" };

/**
 * Stops `cell` (children first, then its postStop) and resolves when it
 * stopped or when its `shutdownMs` passed, whichever is first; past the
 * deadline the cell and its subtree are abandoned: marked stopped without
 * waiting further (a JS promise cannot be killed, only no longer awaited).
 */
export function stopWithin(cell: Cell, reason: StopReason): Promise<void> {
  const p = cell.terminate(reason);
  if (cell.state === STOPPED) return p;
  return new Promise((resolve) => {
    const t: Expirable = {
      deadline: 0,
      settled: false,
      expire() {
        t.settled = true;
        timeouts.settled();
        cell.abandon();
        resolve();
      },
    };
    timeouts.add(t, cell.shutdownMs);
    p.then(() => {
      if (t.settled) return;
      t.settled = true;
      timeouts.settled();
      resolve();
    });
  });
}

/** One actor: lifecycle, supervision, its place in the tree, and its {@link ActorContext}. */
export class Cell<M = unknown> extends ActorLoop<M, Ctrl>
  implements ActorContext<M>, WatchNode {
  readonly ref: LocalRef<M>;
  /** Children by name; a Map keeps start order. */
  kids: Map<string, Cell> | undefined = undefined;
  deathWatch: WatchState | undefined = undefined;
  intensity: RestartIntensity | undefined = undefined;
  stopReason: StopReason | undefined = undefined;
  stopDone: PromiseWithResolvers<void> | undefined = undefined;
  /** Called once the cell stopped (entity regions use it). */
  onStopped: ((cell: Cell) => void) | undefined = undefined;

  constructor(
    readonly sys: CellHost<Cell>,
    readonly parentCell: Cell | undefined,
    readonly name: string,
    readonly path: string,
    readonly factory: () => Actor<M>,
    bound: number,
    readonly shutdownMs: number,
  ) {
    super(bound);
    this.ref = new LocalRef<M>(sys, sys.nodeId, path, this);
  }

  // ------------------------------------------------------------ ActorContext

  get self(): ActorRef<M> {
    return this.ref;
  }

  get parent(): ActorRef | undefined {
    return this.parentCell?.ref;
  }

  get system(): ActorSystemApi {
    return this.sys;
  }

  spawn<C>(factory: () => Actor<C>, options?: SpawnOptions): ActorRef<C> {
    return this.spawnChild(factory, options).ref;
  }

  /**
   * Stops a local actor (within its `shutdownMs`), or this actor when `ref`
   * is omitted or is `self`: then it resolves at once and the stop happens
   * after the current message (awaiting one's own stop would deadlock).
   */
  stop(ref?: ActorRef): Promise<void> {
    if (
      ref === undefined ||
      (ref.node === this.sys.nodeId && ref.path === this.path)
    ) {
      this.terminate(NORMAL);
      return Promise.resolve();
    }
    if (ref.node !== this.sys.nodeId) {
      return Promise.reject(new RemoteStopError(ref.node, ref.path));
    }
    const c = this.sys.registry.get(ref.path);
    return c === undefined ? Promise.resolve() : stopWithin(c, NORMAL);
  }

  watch(ref: ActorRef): void {
    if (this.state === STOPPED) return;
    if (ref.node !== this.sys.nodeId) {
      this.sys.watchRemote(ref, this as Cell);
      return;
    }
    const target = this.sys.registry.get(ref.path);
    if (target === undefined || target.state === STOPPED) {
      // Watching the dead delivers Terminated at once (Erlang monitor semantics).
      this.signal({ type: "Terminated", ref, reason: NORMAL });
      return;
    }
    if (target !== (this as Cell)) addWatch(this, target);
  }

  unwatch(ref: ActorRef): void {
    if (ref.node !== this.sys.nodeId) {
      this.sys.unwatchRemote(ref, this as Cell);
    } else {
      const target = this.sys.registry.get(ref.path);
      if (target !== undefined) removeWatch(this, target);
    }
    if (this.signals !== undefined) {
      this.signals = this.signals.filter((t) =>
        t.ref.node !== ref.node || t.ref.path !== ref.path
      );
    }
  }

  children(): ActorRef[] {
    const out: ActorRef[] = [];
    if (this.kids === undefined) return out;
    for (const c of this.kids.values()) {
      if (c.state !== STOPPED) out.push(c.ref);
    }
    return out;
  }

  child(name: string): ActorRef | undefined {
    const c = this.kids?.get(name);
    return c === undefined || c.state === STOPPED ? undefined : c.ref;
  }

  // -------------------------------------------------------------- spawning

  /** Creates, registers and starts a child; a throwing factory throws here. */
  spawnChild<C>(factory: () => Actor<C>, options: SpawnOptions = {}): Cell<C> {
    if (this.state !== RUNNING) throw new ActorStoppingError(this.path);
    const name = options.name ?? this.sys.nextName();
    if (name.length === 0 || name.includes("/")) {
      throw new InvalidActorNameError(name, "malformed");
    }
    const kids = this.kids ??= new Map();
    if (kids.has(name)) throw new InvalidActorNameError(name, "taken");
    const bound = options.mailboxBound ?? 0;
    if (!Number.isInteger(bound) || bound < 0) {
      throw new RangeError(`mailboxBound must be a positive integer: ${bound}`);
    }
    const cell = new Cell<C>(
      this.sys,
      this as Cell,
      name,
      this.path + "/" + name,
      factory,
      bound,
      options.shutdownMs ?? DEFAULT_SHUTDOWN_MS,
    );
    const inst = factory();
    inst.ctx = cell;
    cell.instance = inst;
    kids.set(name, cell as Cell);
    this.sys.registry.register(cell.path, cell as Cell);
    if (inst.preStart !== undefined) cell.pushCtrl(START);
    return cell;
  }

  // --------------------------------------------------------------- control

  protected logError(message: string, error: unknown): void {
    this.sys.log("error", `${this.path}: ${message}`, error);
  }

  /** The actor failed: reject the ask, suspend, tell the supervisor. */
  protected fail(error: unknown, reply: Reply | undefined): void {
    reply?.reject(error);
    if (this.state !== RUNNING) return;
    this.suspended = true;
    const p = this.parentCell;
    if (p === undefined) {
      this.sys.log("error", `${this.path} failed without a supervisor`, error);
      this.terminate(failure(error));
      return;
    }
    p.pushCtrl({ k: "failed", child: this as Cell, error });
  }

  protected handleCtrl(c: Ctrl): void {
    switch (c.k) {
      case "start": {
        const inst = this.instance;
        if (this.state === RUNNING && inst?.preStart !== undefined) {
          this.hook(() => inst.preStart!());
        }
        return;
      }
      case "stop":
        this.track(this.#doStop());
        return;
      case "resume":
        this.resumeTree();
        return;
      case "failed": {
        if (this.state !== RUNNING) return;
        const p = this.#supervise(c.child, c.error);
        if (p !== undefined) this.track(p);
        return;
      }
      case "down":
        if (this.state !== RUNNING) c.done();
        else this.track(this.#down(c.error).finally(c.done));
        return;
      case "up":
        if (this.state !== RUNNING) c.done();
        else this.#up(c.done);
        return;
    }
  }

  // ----------------------------------------------------------- supervision

  /** Applies this actor's strategy to a failed child. */
  #supervise(child: Cell, error: unknown): Promise<void> | undefined {
    if (child.parentCell !== (this as Cell) || child.state !== RUNNING) {
      return undefined;
    }
    const action = superviseFailure(
      this.instance?.supervisorStrategy?.(),
      this.intensity ??= new RestartIntensity(),
      error,
      child,
      child.ref,
      () => [...this.kids!.values()].filter((c) => c.state === RUNNING),
      performance.now(),
    );
    switch (action.kind) {
      case "resume":
        child.resumeTree();
        return undefined;
      case "stop":
        return stopWithin(child, failure(error));
      case "restart":
        return restartInOrder(
          action.children,
          (c, step) =>
            new Promise<void>((done) =>
              c.pushCtrl(
                step === "down"
                  ? { k: "down", error, done }
                  : { k: "up", done },
              )
            ),
        );
      case "escalate":
        if (this.parentCell === undefined) {
          this.sys.log(
            "error",
            `${child.path} failed and escalated to the guardian; stopping it`,
            error,
          );
          return stopWithin(child, failure(error));
        }
        this.fail(error, undefined);
        return undefined;
    }
  }

  /** Restart, first half: preRestart on the old incarnation, stop its children. */
  async #down(error: unknown): Promise<void> {
    this.suspended = true;
    const inst = this.instance;
    if (inst?.preRestart !== undefined) {
      try {
        await inst.preRestart(error);
      } catch (e) {
        this.sys.log("error", `${this.path}: preRestart threw`, e);
      }
    }
    await this.#stopChildren();
    this.instance = undefined;
  }

  /** Restart, second half: a fresh instance from the factory, then preStart. */
  #up(done: () => void): void {
    let inst: Actor<M>;
    try {
      inst = this.factory();
    } catch (e) {
      done();
      this.fail(e, undefined);
      return;
    }
    inst.ctx = this;
    this.instance = inst;
    this.intensity = undefined;
    this.suspended = false;
    const p = inst.preStart === undefined
      ? undefined
      : this.hook(() => inst.preStart!());
    if (p === undefined) done();
    else p.then(done);
  }

  /** Resume after a failure; children suspended by an escalation resume too. */
  resumeTree(): void {
    if (this.instance === undefined || this.state !== RUNNING) return;
    this.suspended = false;
    if (this.kids !== undefined) {
      for (const c of this.kids.values()) if (c.suspended) c.resumeTree();
    }
    schedule(this);
  }

  // ------------------------------------------------------------- stopping

  /** Requests an orderly stop; resolves once stopped. */
  terminate(reason: StopReason): Promise<void> {
    if (this.state === STOPPED) return Promise.resolve();
    if (this.state === RUNNING) {
      this.state = STOPPING;
      this.stopReason = reason;
      this.pushCtrl(STOP);
    }
    return (this.stopDone ??= Promise.withResolvers()).promise;
  }

  async #doStop(): Promise<void> {
    if (this.state === STOPPED) return;
    this.#dropMail("actor stopped");
    await this.#stopChildren();
    const inst = this.instance;
    if (inst?.postStop !== undefined && this.state !== STOPPED) {
      try {
        await inst.postStop();
      } catch (e) {
        this.sys.log("error", `${this.path}: postStop threw`, e);
      }
    }
    this.finalize(this.stopReason ?? NORMAL);
  }

  /** Children in reverse start order, one after the other, each within its deadline. */
  async #stopChildren(): Promise<void> {
    const kids = this.kids;
    if (kids === undefined || kids.size === 0) return;
    const list = [...kids.values()];
    for (let i = list.length - 1; i >= 0; i--) {
      await stopWithin(list[i], NORMAL);
    }
  }

  /** Gives up on a stop that overran its deadline: the subtree is marked stopped now. */
  abandon(): void {
    if (this.state === STOPPED) return;
    this.sys.log(
      "warn",
      `${this.path} did not stop within ${this.shutdownMs} ms; abandoned`,
    );
    if (this.kids !== undefined) {
      for (const c of [...this.kids.values()].reverse()) c.abandon();
    }
    this.finalize({ kind: "failure", error: "shutdown deadline exceeded" });
  }

  #dropMail(reason: string): void {
    const mb = this.mailbox;
    if (mb === undefined || mb.size === 0) return;
    mb.drain((msg, reply) => {
      this.sys.deadLetter(this.ref, msg, reason);
      reply?.reject(new DeadLetterError(this.ref, reason));
    });
  }

  /** The cell is gone: unlink it, notify watchers, release everything. */
  finalize(reason: StopReason): void {
    if (this.state === STOPPED) return;
    this.state = STOPPED;
    this.stopReason = reason;
    const p = this.parentCell;
    if (p?.kids?.get(this.name) === (this as Cell)) p.kids.delete(this.name);
    this.sys.registry.unregister(this.path, this as Cell);
    this.#dropMail("actor stopped");
    this.signals = undefined;
    const ctrl = this.ctrl;
    this.ctrl = undefined;
    // A supervisor may be waiting on a restart phase of this cell.
    if (ctrl !== undefined) {
      for (const c of ctrl) if (c.k === "down" || c.k === "up") c.done();
    }
    const t: Terminated = { type: "Terminated", ref: this.ref, reason };
    releaseWatches(
      this,
      t,
      this.sys.transport,
      (k, w) => this.sys.unwatchRemoteKey(k, w as Cell),
    );
    this.instance = undefined;
    this.mailbox = undefined;
    this.stopDone?.resolve();
    this.onStopped?.(this as Cell);
  }
}
