/**
 * Asks this node sent to other nodes and has no answer for yet. Each is
 * settled once: by the peer's REPLY or FAIL, by its timeout, by its abort
 * signal, or at once when the node it went to is lost (asks fail fast
 * rather than wait out their timeout). Timeouts share the runtime's one
 * timer (`timeouts`): a `setTimeout` per ask cost more than the rest of
 * the sender's side of a round trip.
 *
 * @module
 */

import { type Expirable, timeouts } from "../runtime/ask.ts";
import {
  type Address,
  AskTimeoutError,
  DeadLetterError,
} from "../runtime/types.ts";
import {
  InvalidMessageError,
  NodeUnreachableError,
  RemoteError,
} from "./errors.ts";

class Pending implements Expirable {
  deadline = 0;
  settled = false;
  resolve!: (v: unknown) => void;
  reject!: (e: unknown) => void;
  onAbort: (() => void) | undefined = undefined;
  readonly promise: Promise<unknown>;

  constructor(
    readonly asks: RemoteAsks,
    readonly id: number,
    readonly to: Address,
    readonly timeoutMs: number,
    readonly signal: AbortSignal | undefined,
  ) {
    this.promise = new Promise((res, rej) => {
      this.resolve = res;
      this.reject = rej;
    });
  }

  expire(): void {
    this.asks.settle(
      this.id,
      undefined,
      new AskTimeoutError(this.to, this.timeoutMs),
    );
  }
}

/** The pending remote asks of one cluster node. */
export class RemoteAsks {
  readonly #pending = new Map<number, Pending>();
  /** node → ask ids pending there, to fail them fast when it goes away. */
  readonly #byNode = new Map<string, Set<number>>();
  #seq = 0;

  /** Asks waiting for an answer. */
  get size(): number {
    return this.#pending.size;
  }

  /** The id for the next ask (put in its envelope before {@link open}). */
  nextId(): number {
    return ++this.#seq;
  }

  /** Starts waiting for the answer to ask `id`, sent to `to`. */
  open(
    id: number,
    to: Address,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<unknown> {
    const p = new Pending(this, id, to, timeoutMs, signal);
    if (signal !== undefined) {
      p.onAbort = () => this.settle(id, undefined, signal.reason);
      signal.addEventListener("abort", p.onAbort, { once: true });
    }
    this.#pending.set(id, p);
    let ids = this.#byNode.get(to.node);
    if (ids === undefined) this.#byNode.set(to.node, ids = new Set());
    ids.add(id);
    timeouts.add(p, timeoutMs);
    return p.promise;
  }

  /** Where ask `id` went, while it is pending (to tell a genuine reply from a stray one). */
  target(id: number): Address | undefined {
    return this.#pending.get(id)?.to;
  }

  /** Settles ask `id` with `value`, or with `error` when it is defined. */
  settle(id: number, value: unknown, error: unknown): void {
    const p = this.#pending.get(id);
    if (p === undefined) return;
    this.#pending.delete(id);
    this.#byNode.get(p.to.node)?.delete(id);
    p.settled = true;
    timeouts.settled();
    if (p.onAbort !== undefined) {
      p.signal!.removeEventListener("abort", p.onAbort);
    }
    if (error !== undefined) p.reject(error);
    else p.resolve(value);
  }

  /** A FAIL for ask `id`: the remote error, as the local typed error where there is one. */
  fail(id: number, name: string, message: string, node: string): void {
    const p = this.#pending.get(id);
    if (p !== undefined) {
      this.settle(id, undefined, reviveError(name, message, p, node));
    }
  }

  /** Every ask pending at `node` fails with {@link NodeUnreachableError}. */
  failNode(node: string, why: string): void {
    const ids = this.#byNode.get(node);
    if (ids === undefined) return;
    this.#byNode.delete(node);
    for (const id of ids) {
      const p = this.#pending.get(id);
      if (p) {
        this.settle(id, undefined, new NodeUnreachableError(node, p.to, why));
      }
    }
  }

  /** Every pending ask fails (the cluster closes). */
  failAll(why: string): void {
    for (const [id, p] of [...this.#pending]) {
      this.settle(
        id,
        undefined,
        new NodeUnreachableError(p.to.node, p.to, why),
      );
    }
  }
}

/** Map a remote failure back to the local typed error where there is one. */
function reviveError(
  name: string,
  message: string,
  p: Pending,
  node: string,
): Error {
  switch (name) {
    case "AskTimeoutError":
      return new AskTimeoutError(p.to, p.timeoutMs);
    case "DeadLetterError":
      return new DeadLetterError(p.to);
    case "InvalidMessageError":
      return new InvalidMessageError(p.to.path, message);
    default:
      return new RemoteError(name, message, node);
  }
}
