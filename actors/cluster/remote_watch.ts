/**
 * Death watch across nodes, the transport's half: which remote actors
 * local actors watch (to re-register after a relink and to send
 * `Terminated(node-down)` when the node is declared down), and which local
 * actors remote actors watch (to drop those watches when the watcher's node
 * goes down). The runtime keeps the per-actor half (`death_watch.ts`).
 *
 * @module
 */

import type { ActorSystemApi, Address, StopReason } from "../runtime/types.ts";

const NODE_DOWN = (node: string): StopReason => ({ kind: "node-down", node });

/** The cluster's watch tables. */
export class WatchTable {
  readonly #system: ActorSystemApi;
  /** Remote targets watched by local actors: node → target path → watcher paths. */
  readonly #watching = new Map<string, Map<string, Set<string>>>();
  /** Local targets watched by remote actors: node → "target\0watcher". */
  readonly #watchedBy = new Map<string, Set<string>>();

  constructor(system: ActorSystemApi) {
    this.#system = system;
  }

  /** Local `watcher` watches remote `target` (the caller sends the WATCH). */
  add(target: Address, watcher: Address): void {
    let targets = this.#watching.get(target.node);
    if (targets === undefined) {
      this.#watching.set(target.node, targets = new Map());
    }
    let watchers = targets.get(target.path);
    if (watchers === undefined) targets.set(target.path, watchers = new Set());
    watchers.add(watcher.path);
  }

  /** Local `watcher` stops watching `target`; false when it did not (nothing to send). */
  remove(target: Address, watcher: Address): boolean {
    const targets = this.#watching.get(target.node);
    const watchers = targets?.get(target.path);
    if (!watchers?.delete(watcher.path)) return false;
    if (watchers.size === 0) targets!.delete(target.path);
    return true;
  }

  /** The (target, watcher) pairs watched on `node`, to register again after a relink. */
  *watchedOn(node: string): IterableIterator<[string, string]> {
    for (const [target, watchers] of this.#watching.get(node) ?? []) {
      for (const w of watchers) yield [target, w];
    }
  }

  /** WATCH from `peer`: its `watcher` watches our `target`. */
  onWatch(peer: string, target: string, watcher: string): void {
    let set = this.#watchedBy.get(peer);
    if (set === undefined) this.#watchedBy.set(peer, set = new Set());
    set.add(`${target}\0${watcher}`);
    this.#system.watchFor(target, { node: peer, path: watcher });
  }

  /** UNWATCH from `peer`. */
  onUnwatch(peer: string, target: string, watcher: string): void {
    this.#watchedBy.get(peer)?.delete(`${target}\0${watcher}`);
    this.#system.unwatchFor(target, { node: peer, path: watcher });
  }

  /** TERMINATED from `peer`: its `target` stopped; local watchers are told. */
  onTerminated(peer: string, target: string, reason: StopReason): void {
    this.#watching.get(peer)?.delete(target);
    this.#system.signalTerminated({ node: peer, path: target }, reason);
  }

  /**
   * `node` is down: local watchers of its actors get Terminated(node-down),
   * and its actors' watches of ours are dropped.
   */
  nodeDown(node: string): void {
    const targets = this.#watching.get(node);
    this.#watching.delete(node);
    for (const target of targets?.keys() ?? []) {
      this.#system.signalTerminated({ node, path: target }, NODE_DOWN(node));
    }
    const watchedBy = this.#watchedBy.get(node);
    this.#watchedBy.delete(node);
    for (const key of watchedBy ?? []) {
      const [target, watcher] = key.split("\0");
      this.#system.unwatchFor(target, { node, path: watcher });
    }
  }

  /** Terminated for a watch of a node that is already down (Erlang: at once). */
  alreadyDown(target: Address): void {
    queueMicrotask(() =>
      this.#system.signalTerminated(target, NODE_DOWN(target.node))
    );
  }
}
