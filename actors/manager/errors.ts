/**
 * Domain failures of the manager, as values the gateway maps to API problem
 * types (routes/problems.ts reads `problemType`, `problemMsg`, `problemData`):
 * no layer matches on message text.
 *
 * @module
 */

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
