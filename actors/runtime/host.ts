/**
 * What an actor cell needs of the system that hosts it. The cell, the
 * entity regions and death watch depend on this interface, the system
 * implements it: so `cell.ts` never imports `system.ts` (no import cycle
 * between them), and the interface says in one place how much of the
 * system a cell may touch.
 *
 * Generic in the cell type `C` so that this module imports no cell either.
 *
 * @module
 */

import type { LogLevel } from "./log.ts";
import type { RefHost } from "./ref.ts";
import type { PathRegistry } from "./registry.ts";
import type { ActorRef, ActorSystemApi, Reply } from "./types.ts";

/** An entity region as the registry and routing see it. */
export interface RegionLike {
  readonly path: string;
  /** Delivers to entity `id`, activating it when needed; false when the region is stopping. */
  route(id: string, msg: unknown, reply: Reply | undefined): boolean;
}

/** The system as its cells see it. */
export interface CellHost<C> extends ActorSystemApi, RefHost {
  /** Live cells by path, and entity regions. */
  readonly registry: PathRegistry<C, RegionLike>;
  /** `/user`: parent of every top-level actor. */
  readonly guardian: C;
  /** Reports through the configured logger. */
  log(level: LogLevel, message: string, error?: unknown): void;
  /** A fresh name for an unnamed actor (unique in this system). */
  nextName(): string;
  /** A local `watcher` watches a remote ref (through the transport). */
  watchRemote(target: ActorRef, watcher: C): void;
  unwatchRemote(target: ActorRef, watcher: C): void;
  /** Drops `watcher`'s watch of the remote actor with key `node\npath`. */
  unwatchRemoteKey(key: string, watcher: C): void;
}
