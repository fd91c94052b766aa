/**
 * Entity regions: lazily activated entities of one kind (virtual actors).
 * A region is an ordinary actor at `/user/KIND` whose children are the
 * active entities `/user/KIND/ID`. A message for an inactive entity
 * activates it; a sweep passivates (stops) entities that got no message for
 * `idleMs`; messages that arrive while an entity passivates are held by the
 * region and handed, in order, to the next incarnation, which its
 * `preStart` reloads from durable state.
 *
 * @module
 */

import { type Cell, NORMAL, RUNNING, stopWithin } from "./cell.ts";
import type { CellHost } from "./host.ts";
import { LocalRef } from "./ref.ts";
import {
  Actor,
  type ActorRef,
  DeadLetterError,
  type Entities,
  type EntityOptions,
  type Reply,
} from "./types.ts";

/** The actor at `/user/KIND`; the entities are its children. */
class RegionActor extends Actor<never> {
  receive(): void {}
}

interface Entry {
  cell: Cell;
  /** `cell.received` at the last sweep. */
  seen: number;
  /** When a message was last seen (ms, performance clock). */
  since: number;
  /** Messages that arrived while the entity passivated: msg, reply, msg, reply... */
  held: unknown[] | undefined;
}

/** What a region needs of the system. */
export type RegionHost = CellHost<Cell>;

/** Default of {@link EntityOptions.idleMs}. */
export const DEFAULT_IDLE_MS = 120_000;

/** Entities of one kind; see the module doc. */
export class EntityRegion<M> implements Entities<M> {
  readonly kind: string;
  readonly path: string;
  readonly #host: RegionHost;
  readonly #cell: Cell;
  readonly #factory: (id: string) => Actor<M>;
  readonly #idleMs: number;
  readonly #mailboxBound: number | undefined;
  readonly #shutdownMs: number | undefined;
  readonly #entries = new Map<string, Entry>();
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    host: RegionHost,
    kind: string,
    factory: (id: string) => Actor<M>,
    options: EntityOptions = {},
  ) {
    this.kind = kind;
    this.#host = host;
    this.#factory = factory;
    this.#idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
    this.#mailboxBound = options.mailboxBound;
    this.#shutdownMs = options.shutdownMs;
    this.#cell = host.guardian.spawnChild(() => new RegionActor(), {
      name: kind,
    }) as Cell;
    this.path = this.#cell.path;
    this.#cell.onStopped = () => {
      host.registry.removeRegion(this);
      this.#disarm();
    };
    host.registry.addRegion(this);
  }

  get active(): number {
    return this.#entries.size;
  }

  ref(id: string): ActorRef<M> {
    const path = this.path + "/" + id;
    const live = this.#entries.get(id)?.cell;
    return new LocalRef<M>(
      this.#host,
      this.#host.nodeId,
      path,
      live?.state === RUNNING ? live : undefined,
    );
  }

  passivate(id: string): Promise<void> {
    const e = this.#entries.get(id);
    return e === undefined ? Promise.resolve() : stopWithin(e.cell, NORMAL);
  }

  /**
   * Delivers to entity `id`, activating it when needed. False when the
   * region is stopping (the caller records the dead letter).
   */
  route(id: string, msg: unknown, reply: Reply | undefined): boolean {
    if (this.#cell.state !== RUNNING) return false;
    const e = this.#entries.get(id) ?? this.#activate(id);
    if (e === undefined) return false;
    if (e.cell.post(msg, reply)) return true;
    (e.held ??= []).push(msg, reply);
    return true;
  }

  #activate(id: string): Entry | undefined {
    let cell: Cell;
    try {
      cell = this.#cell.spawnChild(() => this.#factory(id), {
        name: id,
        mailboxBound: this.#mailboxBound,
        shutdownMs: this.#shutdownMs,
      }) as Cell;
    } catch (e) {
      this.#host.log("error", `${this.path}/${id}: activation failed`, e);
      return undefined;
    }
    cell.onStopped = this.#onEntityStopped;
    const e: Entry = {
      cell,
      seen: cell.received,
      since: performance.now(),
      held: undefined,
    };
    this.#entries.set(id, e);
    this.#arm();
    return e;
  }

  #onEntityStopped = (cell: Cell): void => {
    const e = this.#entries.get(cell.name);
    if (e === undefined || e.cell !== cell) return;
    this.#entries.delete(cell.name);
    const held = e.held;
    if (held !== undefined && held.length > 0) {
      // Messages sent while it passivated: a new incarnation gets them, in order.
      const next = this.#cell.state === RUNNING
        ? this.#activate(cell.name)
        : undefined;
      for (let i = 0; i < held.length; i += 2) {
        const msg = held[i];
        const reply = held[i + 1] as Reply | undefined;
        try {
          if (next !== undefined && next.cell.post(msg, reply)) continue;
        } catch (err) {
          reply?.reject(err);
          this.#host.deadLetter(cell.ref, msg, "mailbox full");
          continue;
        }
        this.#host.deadLetter(cell.ref, msg, "entity region stopped");
        reply?.reject(new DeadLetterError(cell.ref, "entity region stopped"));
      }
    }
    if (this.#entries.size === 0) this.#disarm();
  };

  #arm(): void {
    if (this.#timer !== undefined) return;
    const every = Math.max(1, Math.min(this.#idleMs / 2, 1000));
    const t = setTimeout(this.#sweep, every);
    Deno.unrefTimer(t as unknown as number);
    this.#timer = t;
  }

  #disarm(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #sweep = (): void => {
    this.#timer = undefined;
    const now = performance.now();
    for (const e of this.#entries.values()) {
      const c = e.cell;
      if (c.state !== RUNNING) continue;
      if (
        c.received !== e.seen || c.busy || c.suspended ||
        (c.mailbox !== undefined && c.mailbox.size > 0)
      ) {
        e.seen = c.received;
        e.since = now;
      } else if (now - e.since >= this.#idleMs) {
        stopWithin(c, NORMAL);
      }
    }
    if (this.#entries.size > 0) this.#arm();
  };
}
