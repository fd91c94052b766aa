/**
 * Domain failures of the manager, as values the gateway maps to API problem
 * types (routes/problems.ts reads `problemType`, `problemMsg`, `problemData`):
 * no layer matches on message text.
 *
 * @module
 */

import { AskTimeoutError, DeadLetterError } from "../runtime/types.ts";
import type { ProblemType } from "./port/problems.ts";

/** Problem names the manager raises (the API's table, port/problems.ts). */
export type ProblemName = ProblemType;

/** A failure the API reports as a problem+json reply. */
export class DomainError extends Error {
  override name = "DomainError";
  constructor(
    readonly problemType: ProblemName,
    readonly problemMsg?: string,
    readonly problemData?: Record<string, unknown>,
  ) {
    super(problemMsg ?? problemType);
  }
}

export const notFound = (what = "No such session."): DomainError =>
  new DomainError("object-not-found", what);

/**
 * Runs `fn` (asks of a session's actor) and says the runtime's failures in
 * the API's terms: an actor that stopped between look-up and ask (its
 * session just ended) is "no such session", one that did not answer in
 * time is "unavailable". Other errors pass unchanged.
 */
export async function asProblems<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof DeadLetterError) throw notFound();
    if (err instanceof AskTimeoutError) {
      throw new DomainError(
        "service-unavailable",
        "The session did not answer in time.",
      );
    }
    throw err;
  }
}
