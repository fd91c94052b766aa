/**
 * Typed failures of the Docker Engine API client. Callers branch on the
 * class (and `status`), never on message text.
 */

/** The engine answered with a non-2xx status; `message` is the engine's own. */
export class DockerError extends Error {
  override name = "DockerError";
  constructor(
    /** HTTP status the engine returned (404 no such container, 409 conflict ...). */
    readonly status: number,
    /** The engine's `message` field, or the raw body when it had none. */
    readonly engineMessage: string,
    /** `METHOD path` of the failed request, for logs. */
    readonly request: string,
  ) {
    super(`${request}: ${status} ${engineMessage}`);
  }
}

/** The engine socket is missing, refuses connections or hung up mid-request. */
export class DockerUnavailableError extends Error {
  override name = "DockerUnavailableError";
  constructor(readonly socketPath: string, options?: { cause?: unknown }) {
    super(`Docker engine unavailable at ${socketPath}`, options);
  }
}

/** The attach upgrade was answered with something other than 101/200. */
export class DockerAttachError extends Error {
  override name = "DockerAttachError";
  constructor(readonly status: number, readonly statusLine: string) {
    super(`attach failed: ${statusLine}`);
  }
}
