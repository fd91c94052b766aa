/**
 * What every job of a session actor (teardown, suspend, retirement) reads
 * of the actor itself: its ref, the kernel link, the current run, the row
 * and the stored status change. Each job's host interface adds what only
 * it needs.
 *
 * @module
 */

import type { ActorRef } from "../../runtime/types.ts";
import type { SessionStatus } from "../lifecycle.ts";
import type { SessionRow } from "../services.ts";
import type { KernelLink } from "./kernel_link.ts";
import type { SessionMsg } from "./messages.ts";
import type { RunRelay } from "./runs.ts";

/** The session actor, as the modules that carry out its jobs see it. */
export interface SessionHost {
  readonly self: ActorRef<SessionMsg>;
  readonly link: KernelLink;
  readonly runs: RunRelay;
  row(): SessionRow;
  /** Stores and announces a status change (the lifecycle's table checked). */
  transition(
    status: SessionStatus,
    reason: string,
    patch?: Partial<SessionRow>,
  ): Promise<void>;
}
