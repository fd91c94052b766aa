/**
 * Death watch bookkeeping (Erlang monitors): who watches whom, locally and
 * across the transport, and who is told what when an actor stops or a node
 * goes down. The cell calls {@link addWatch}/{@link removeWatch} and
 * {@link releaseWatches}; the system keeps a {@link RemoteWatches} table for
 * local watchers of remote actors and remote watchers of local ones.
 *
 * State lives in a {@link WatchState} created on first use, so an actor
 * nobody watches (most of them) carries one empty field.
 *
 * @module
 */

import type {
  ActorRef,
  Address,
  StopReason,
  Terminated,
  Transport,
} from "./types.ts";

/** What death watch needs of an actor cell. */
export interface WatchNode {
  readonly path: string;
  deathWatch: WatchState | undefined;
  signal(t: Terminated): void;
}

/** One cell's watch relations. */
export class WatchState {
  /** Local cells watching this one. */
  watchers: Set<WatchNode> | undefined = undefined;
  /** Remote watchers of this one, by `node\npath`. */
  remote: Map<string, Address> | undefined = undefined;
  /** What this cell watches: local cells, or remote keys `node\npath`. */
  watching: Set<WatchNode | string> | undefined = undefined;
}

/** The key of a (remote) address in the watch tables. */
export function addressKey(a: Address): string {
  return a.node + "\n" + a.path;
}

function stateOf(n: WatchNode): WatchState {
  return n.deathWatch ??= new WatchState();
}

/** `watcher` watches local `target`. */
export function addWatch(watcher: WatchNode, target: WatchNode): void {
  (stateOf(target).watchers ??= new Set()).add(watcher);
  (stateOf(watcher).watching ??= new Set()).add(target);
}

/** `watcher` no longer watches local `target`. */
export function removeWatch(watcher: WatchNode, target: WatchNode): void {
  target.deathWatch?.watchers?.delete(watcher);
  watcher.deathWatch?.watching?.delete(target);
}

/**
 * `cell` stopped with Terminated `t`: its local watchers are signalled, its
 * remote watchers told through `transport`, and its own watches dropped
 * (`unwatchRemoteKey` for the remote ones).
 */
export function releaseWatches(
  cell: WatchNode,
  t: Terminated,
  transport: Transport | undefined,
  unwatchRemoteKey: (key: string, watcher: WatchNode) => void,
): void {
  const w = cell.deathWatch;
  if (w === undefined) return;
  cell.deathWatch = undefined;
  if (w.watchers !== undefined) {
    for (const watcher of w.watchers) {
      watcher.deathWatch?.watching?.delete(cell);
      watcher.signal(t);
    }
  }
  if (w.remote !== undefined) {
    for (const a of w.remote.values()) transport?.tell(a, t);
  }
  if (w.watching !== undefined) {
    for (const target of w.watching) {
      if (typeof target === "string") unwatchRemoteKey(target, cell);
      else target.deathWatch?.watchers?.delete(cell);
    }
  }
}

interface RemoteWatch<C> {
  address: Address;
  watchers: Set<C>;
}

/** What {@link RemoteWatches} needs of the system. */
export interface RemoteWatchHost<C> {
  readonly nodeId: string;
  /** The transport installed now, if any. */
  transport(): Transport | undefined;
  /** The live local cell at `path`, if any (running or stopping). */
  liveCell(path: string): C | undefined;
  refFor(address: Address): ActorRef;
}

const NORMAL: StopReason = Object.freeze({ kind: "normal" });

/** Watches that cross the transport, both directions. */
export class RemoteWatches<C extends WatchNode> {
  readonly #host: RemoteWatchHost<C>;
  /** Remote targets watched by local cells, by `node\npath`. */
  readonly #targets = new Map<string, RemoteWatch<C>>();

  constructor(host: RemoteWatchHost<C>) {
    this.#host = host;
  }

  /** A local `watcher` watches a remote ref (through the transport). */
  watchRemote(target: ActorRef, watcher: C): void {
    const t = this.#host.transport();
    if (t === undefined) {
      watcher.signal({
        type: "Terminated",
        ref: target,
        reason: { kind: "node-down", node: target.node },
      });
      return;
    }
    const k = addressKey(target);
    let w = this.#targets.get(k);
    if (w === undefined) {
      w = {
        address: { node: target.node, path: target.path },
        watchers: new Set(),
      };
      this.#targets.set(k, w);
    }
    if (w.watchers.has(watcher)) return;
    w.watchers.add(watcher);
    (stateOf(watcher).watching ??= new Set()).add(k);
    t.watch(w.address, { node: this.#host.nodeId, path: watcher.path });
  }

  unwatchRemote(target: ActorRef, watcher: C): void {
    this.unwatchRemoteKey(addressKey(target), watcher);
  }

  unwatchRemoteKey(k: string, watcher: C): void {
    watcher.deathWatch?.watching?.delete(k);
    const w = this.#targets.get(k);
    if (w === undefined || !w.watchers.delete(watcher)) return;
    if (w.watchers.size === 0) this.#targets.delete(k);
    this.#host.transport()?.unwatch(w.address, {
      node: this.#host.nodeId,
      path: watcher.path,
    });
  }

  /** A remote actor stopped (or its node went down): notify its local watchers. */
  signalTerminated(address: Address, reason: StopReason): void {
    const k = addressKey(address);
    const w = this.#targets.get(k);
    if (w === undefined) return;
    this.#targets.delete(k);
    const ref = this.#host.refFor(address);
    for (const cell of w.watchers) {
      cell.deathWatch?.watching?.delete(k);
      cell.signal({ type: "Terminated", ref, reason });
    }
  }

  /** Every local watch of an actor on `node` gets Terminated with reason node-down. */
  signalNodeDown(node: string): void {
    for (const w of [...this.#targets.values()]) {
      if (w.address.node === node) {
        this.signalTerminated(w.address, { kind: "node-down", node });
      }
    }
  }

  /** A remote `watcher` watches local `target` (Terminated at once when it is gone). */
  watchFor(target: string, watcher: Address): void {
    const c = this.#host.liveCell(target);
    const w = { node: watcher.node, path: watcher.path };
    if (c === undefined) {
      this.#host.transport()?.tell(w, {
        type: "Terminated",
        ref: this.#host.refFor({ node: this.#host.nodeId, path: target }),
        reason: NORMAL,
      });
      return;
    }
    (stateOf(c).remote ??= new Map()).set(addressKey(w), w);
  }

  unwatchFor(target: string, watcher: Address): void {
    this.#host.liveCell(target)?.deathWatch?.remote?.delete(
      addressKey(watcher),
    );
  }
}
