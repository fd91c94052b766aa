/**
 * Deferred replies: an actor answers an `ask` after its `receive` returned,
 * without holding its mailbox. `receive` returns `replyLater(promise)`; the
 * runtime moves on to the next message at once and settles the asker's
 * reply when `promise` does, for local and remote asks alike (the reply
 * travels the same way a direct answer would). A rejection rejects only the
 * ask: the actor has moved on, so it is not a failure of the actor.
 *
 * Use it for long waits (a long-poll, a kernel being created) that must
 * not block other messages to the same actor.
 *
 * @example
 * ```ts
 * import { Actor, ActorSystem, replyLater } from "./mod.ts";
 * import { strictEqual as assertEquals } from "node:assert";
 *
 * class Waiter extends Actor<"wait" | "ping"> {
 *   receive(msg: "wait" | "ping") {
 *     if (msg === "ping") return "pong";
 *     return replyLater(new Promise((r) => setTimeout(() => r("done"), 10)));
 *   }
 * }
 * const system = new ActorSystem();
 * const ref = system.spawn(() => new Waiter());
 * const waiting = ref.ask("wait");
 * assertEquals(await ref.ask("ping"), "pong"); // not blocked by the wait
 * assertEquals(await waiting, "done");
 * await system.shutdown();
 * ```
 *
 * @module
 */

/** A reply that settles when its promise does; see {@link replyLater}. */
export class ReplyLater<T = unknown> {
  constructor(readonly promise: Promise<T>) {}
}

/** Answers the current `ask` with `promise`'s outcome, later. */
export function replyLater<T>(promise: Promise<T>): ReplyLater<T> {
  return new ReplyLater(promise);
}

/** The runtime's side: settle `reply` with `value`, waiting if it is deferred. */
export function settleReply(
  reply: { resolve(v: unknown): void; reject(e: unknown): void } | undefined,
  value: unknown,
): void {
  if (value instanceof ReplyLater) {
    // Always observe the rejection, even when nobody asked (a tell).
    Promise.resolve(value.promise).then(
      (v) => reply?.resolve(v),
      (e) => reply?.reject(e),
    );
  } else reply?.resolve(value);
}
