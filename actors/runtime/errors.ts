/**
 * Typed errors of the runtime. The contract's own errors
 * ({@link AskTimeoutError}, {@link DeadLetterError},
 * {@link MailboxOverflowError}) live in `types.ts`; these are the ones only
 * the runtime raises.
 *
 * @module
 */

/** A spawn name is malformed (empty, contains `/`) or already taken among the siblings. */
export class InvalidActorNameError extends Error {
  override name = "InvalidActorNameError";
  constructor(
    readonly actorName: string,
    readonly problem: "malformed" | "taken",
  ) {
    super(
      problem === "taken"
        ? `actor name "${actorName}" is already taken`
        : `actor name "${actorName}" is malformed (empty or contains "/")`,
    );
  }
}

/** Spawning under an actor (or a system) that is stopping or stopped. */
export class ActorStoppingError extends Error {
  override name = "ActorStoppingError";
  constructor(readonly path: string) {
    super(`cannot spawn under ${path}: it is stopping`);
  }
}

/** `stop` was asked for an actor on another node; only local actors can be stopped. */
export class RemoteStopError extends Error {
  override name = "RemoteStopError";
  constructor(readonly node: string, readonly path: string) {
    super(`cannot stop ${node}${path}: not a local actor`);
  }
}
