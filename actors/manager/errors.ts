/**
 * Domain failures of the manager, as values the gateway maps to API problem
 * types (routes/problems.ts reads `problemType`, `problemMsg`, `problemData`):
 * no layer matches on message text.
 *
 * @module
 */

/** Problem names the manager raises (a subset of API.md "Errors"). */
export type ProblemName =
  | "object-not-found"
  | "too-many-sessions-matched"
  | "session-already-exists"
  | "invalid-api-params"
  | "generic-bad-request"
  | "generic-forbidden"
  | "insufficient-privilege"
  | "quota-exceeded"
  | "instance-not-available"
  | "service-unavailable"
  | "kernel-creation-failed"
  | "kernel-execution-failed"
  | "vfolder-not-found"
  | "session-busy"
  | "vfolder-already-exists"
  | "object-in-use"
  | "insufficient-storage";

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
