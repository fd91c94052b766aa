/**
 * The problem types the API answers (API.md "Errors"): each name with its
 * HTTP status and Backend.AI's fixed title. One table for both sides: the
 * manager raises `DomainError`s naming these (errors.ts), the HTTP edge
 * turns them into `application/problem+json` replies (routes/problems.ts).
 *
 * @module
 */

/** Status and Backend.AI's fixed title for each problem name. */
export const PROBLEMS = {
  "url-not-found": { status: 404, title: "Unknown URL path." },
  "object-not-found": { status: 404, title: "No such object." },
  "generic-bad-request": { status: 400, title: "Bad request." },
  "invalid-auth-params": {
    status: 400,
    title: "Missing or invalid authorization parameters.",
  },
  "invalid-api-params": {
    status: 400,
    title: "Missing or invalid API parameters.",
  },
  "auth-failed": { status: 401, title: "Credential/signature mismatch." },
  "generic-forbidden": { status: 403, title: "Forbidden operation." },
  "insufficient-privilege": { status: 403, title: "Insufficient privilege." },
  "method-not-allowed": { status: 405, title: "HTTP Method Not Allowed." },
  "session-already-exists": {
    status: 400,
    title:
      "The session already exists but you requested not to reuse existing one.",
  },
  "quota-exceeded": {
    status: 412,
    title: "You have reached your resource limit.",
  },
  "rate-limit-exceeded": {
    status: 429,
    title: "You have reached your API query rate limit.",
  },
  "too-many-sessions-matched": {
    status: 404,
    title: "Too many sessions matched.",
  },
  "internal-server-error": { status: 500, title: "Internal server error." },
  "kernel-creation-failed": {
    status: 500,
    title: "Kernel creation has failed.",
  },
  "kernel-execution-failed": {
    status: 500,
    title: "Executing user code in the kernel has failed.",
  },
  "service-unavailable": { status: 503, title: "Service unavailable." },
  "instance-not-available": {
    status: 503,
    title: "There is no available instance.",
  },
  "vfolder-not-found": { status: 404, title: "No such virtual folder." },
  "vfolder-already-exists": {
    status: 400,
    title: "A virtual folder with the same name already exists.",
  },
  // Not in Backend.AI's list, but needed for a body over the limit (a 4xx, never a 500).
  "request-too-large": { status: 413, title: "Request body is too large." },
  // Not in Backend.AI's list either: the edge's answers to hostile or
  // conflicting requests (input.ts, upgrade.ts, admin deletes).
  "websocket-version-unsupported": {
    status: 426,
    title: "Unsupported WebSocket version; only version 13 is spoken.",
  },
  "object-in-use": { status: 409, title: "The object is still in use." },
  "session-busy": {
    status: 409,
    title:
      "Another run is in progress in this session; continue or interrupt it first.",
  },
  "insufficient-storage": {
    status: 507,
    title: "Not enough storage to complete the request.",
  },
  // Backend.AI's answer of the legacy `/admin/graphql` to a failed query.
  "graphql-error": { status: 400, title: "GraphQL-generated error." },
} as const satisfies Record<string, { status: number; title: string }>;

/** A problem name, e.g. `"object-not-found"`. */
export type ProblemType = keyof typeof PROBLEMS;
