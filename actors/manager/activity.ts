/**
 * The manager's side of {@link SessionActivityDeps} (port/cost.ts): what
 * keeps a session awake or puts it to sleep, for the `/x/session/{ref}`
 * routes, terminals and app proxies. Each call resolves the session within
 * the caller's keypair and asks its actor (session/suspend.ts).
 *
 * @module
 */

import type { ActorRef } from "../runtime/types.ts";
import type {
  Caller,
  SessionActivityDeps,
  SessionHold,
  SessionInfo,
} from "./port/mod.ts";
import { asProblems, DomainError } from "./errors.ts";
import type { SessionMsg } from "./session/actor.ts";
import type { Resolved, SessionsMsg } from "./session/sessions.ts";

const ASK = { timeoutMs: 15_000 };
/** A resume books the room, asks the keypair and the agent: seconds at most. */
const RESUME = { timeoutMs: 60_000 };

export function createActivityDeps(
  sessions: ActorRef<SessionsMsg>,
): SessionActivityDeps {
  const live = async (caller: Caller, ref: string) => {
    const r = await sessions.ask<Resolved>({
      type: "resolve",
      accessKey: caller.accessKey,
      ref,
      includeEnded: false,
    }, ASK);
    if (!r.live) throw new DomainError("object-not-found", "No such session.");
    return r.ref;
  };
  const info = (s: ActorRef<SessionMsg>) =>
    s.ask<SessionInfo>({ type: "info" }, ASK);
  return {
    suspend: (caller, ref) =>
      asProblems(async () => {
        const s = await live(caller, ref);
        await s.ask({ type: "suspend", reason: "paused on request" }, RESUME);
        return await info(s);
      }),
    resume: (caller, ref) =>
      asProblems(async () => {
        const s = await live(caller, ref);
        await s.ask({ type: "resume", reason: "resumed on request" }, RESUME);
        return await info(s);
      }),
    hold: (caller, ref, holder) =>
      asProblems(async (): Promise<SessionHold> => {
        const s = await live(caller, ref);
        await s.ask({ type: "hold", holder }, RESUME);
        let released: Promise<void> | undefined;
        return {
          release: () =>
            released ??= s.ask({ type: "unhold", holder }, ASK).then(
              () => undefined,
              () => undefined, // the session ended: nothing to release
            ),
        };
      }),
    touch: (caller, ref) =>
      asProblems(async () => {
        (await live(caller, ref)).tell({ type: "activity" });
      }),
  };
}
