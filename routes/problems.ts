/**
 * Problem types of the public API (API.md "Errors") and the one place that
 * turns a failure into an `application/problem+json` reply.
 *
 * Domain code reports a failure by throwing a {@link ProblemError} (or one of
 * its subclasses below). Code that must not import `routes/` (actors,
 * policies) may instead throw any `Error` carrying a string `problemType`
 * property naming one of {@link PROBLEMS} (plus optional `problemMsg`,
 * `problemData`): {@link toProblem} maps those too, so no layer ever matches
 * on message text.
 *
 * @module
 */

import { PROBLEMS, type ProblemType } from "../actors/manager/port/problems.ts";

export { PROBLEMS, type ProblemType };

/** Prefix of every problem's `type` URI. */
export const PROBLEM_BASE = "https://api.backend.ai/probs/";

/** The JSON body of a problem reply. */
export interface ProblemBody {
  type: string;
  title: string;
  msg?: string;
  data?: unknown;
}

/** Options of {@link ProblemError}. */
export interface ProblemOptions {
  /** Overrides the fixed title (rarely needed; Backend.AI keeps titles fixed). */
  title?: string;
  /** Extra human-readable detail, sent as `msg`. */
  msg?: string;
  /** Machine-readable detail, sent as `data`. */
  data?: unknown;
  /** Extra response headers (e.g. `Allow` for 405). */
  headers?: Record<string, string>;
  cause?: unknown;
}

/** A failure the API reports as a problem+json reply with a known type. */
export class ProblemError extends Error {
  readonly problemType: ProblemType;
  readonly status: number;
  readonly title: string;
  readonly msg?: string;
  readonly data?: unknown;
  readonly headers?: Record<string, string>;

  constructor(type: ProblemType, options: ProblemOptions = {}) {
    const def = PROBLEMS[type];
    super(options.msg ?? options.title ?? def.title, { cause: options.cause });
    this.name = "ProblemError";
    this.problemType = type;
    this.status = def.status;
    this.title = options.title ?? def.title;
    this.msg = options.msg;
    this.data = options.data;
    this.headers = options.headers;
  }

  /** The JSON body Backend.AI clients parse. */
  toJSON(): ProblemBody {
    const body: ProblemBody = {
      type: PROBLEM_BASE + this.problemType,
      title: this.title,
    };
    if (this.msg !== undefined) body.msg = this.msg;
    if (this.data !== undefined) body.data = this.data;
    return body;
  }
}

/** 404 object-not-found; `what` fills the title ("No such session."). */
export class ObjectNotFound extends ProblemError {
  constructor(what = "object", options: ProblemOptions = {}) {
    super("object-not-found", { title: `No such ${what}.`, ...options });
  }
}

/** 400 invalid-api-params; `data` carries the validation issues. */
export class InvalidApiParams extends ProblemError {
  constructor(msg?: string, data?: unknown) {
    super("invalid-api-params", { msg, data });
  }
}

/** 400 invalid-auth-params: a malformed or missing Authorization part. */
export class InvalidAuthParams extends ProblemError {
  constructor(msg?: string) {
    super("invalid-auth-params", { msg });
  }
}

/** 401 auth-failed: unknown key, inactive key, bad signature, or no credentials. */
export class AuthFailed extends ProblemError {
  constructor(msg?: string) {
    super("auth-failed", { msg });
  }
}

/** 403 insufficient-privilege: an admin-only operation by a user keypair. */
export class InsufficientPrivilege extends ProblemError {
  constructor(msg?: string) {
    super("insufficient-privilege", { msg });
  }
}

/** 400 session-already-exists; `data.existingSessionId` names the session. */
export class SessionAlreadyExists extends ProblemError {
  constructor(existingSessionId: string, msg?: string) {
    super("session-already-exists", { msg, data: { existingSessionId } });
  }
}

/** 404 too-many-sessions-matched; `data.matches` lists the candidates. */
export class TooManySessionsMatched extends ProblemError {
  constructor(matches?: unknown[]) {
    super("too-many-sessions-matched", {
      data: matches ? { matches } : undefined,
    });
  }
}

/** 429 rate-limit-exceeded. */
export class RateLimitExceeded extends ProblemError {
  constructor() {
    super("rate-limit-exceeded");
  }
}

/** 412 quota-exceeded: a resource policy forbids the request. */
export class QuotaExceeded extends ProblemError {
  constructor(msg?: string, data?: unknown) {
    super("quota-exceeded", { msg, data });
  }
}

function isProblemType(value: unknown): value is ProblemType {
  return typeof value === "string" && Object.hasOwn(PROBLEMS, value);
}

/**
 * Maps any thrown value to a {@link ProblemError}, or `undefined` when it is
 * not a known domain failure (the caller then answers 500 and logs it).
 */
export function toProblem(err: unknown): ProblemError | undefined {
  if (err instanceof ProblemError) return err;
  if (err && typeof err === "object") {
    const e = err as {
      problemType?: unknown;
      problemMsg?: unknown;
      problemData?: unknown;
    };
    if (isProblemType(e.problemType)) {
      return new ProblemError(e.problemType, {
        msg: typeof e.problemMsg === "string" ? e.problemMsg : undefined,
        data: e.problemData,
        cause: err,
      });
    }
  }
  return undefined;
}

/** The problem type of each reply {@link problemResponse} built (for metrics). */
const TYPES = new WeakMap<Response, ProblemType>();

/** The problem type of a reply {@link problemResponse} built, else undefined. */
export function problemTypeOf(res: Response): ProblemType | undefined {
  return TYPES.get(res);
}

/** Builds the problem+json `Response` for a problem. */
export function problemResponse(problem: ProblemError): Response {
  const headers = new Headers(problem.headers);
  headers.set("Content-Type", "application/problem+json");
  const res = new Response(JSON.stringify(problem.toJSON()), {
    status: problem.status,
    headers,
  });
  TYPES.set(res, problem.problemType);
  return res;
}
