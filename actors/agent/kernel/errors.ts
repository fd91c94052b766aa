/** Typed failures of a kernel connection (see connection.ts). */

/** The runner's stream ended (container exited, was killed, or OOM). */
export class KernelDiedError extends Error {
  override name = "KernelDiedError";
}

/** The runner answered a request with an `error` frame. */
export class KernelRequestError extends Error {
  override name = "KernelRequestError";
  constructor(readonly op: string, readonly runnerMessage: string) {
    super(`${op}: ${runnerMessage}`);
  }
}

/** The runner could not write: the kernel's disk or its quota is full (ENOSPC, EDQUOT). */
export class KernelStorageFullError extends KernelRequestError {
  override name = "KernelStorageFullError";
}

/** The OS errors that say the disk or its quota is full. */
export const STORAGE_FULL_ERRNOS: ReadonlySet<string> = new Set([
  "ENOSPC",
  "EDQUOT",
]);

/** The runner did not send `ready` in time. */
export class KernelReadyTimeoutError extends Error {
  override name = "KernelReadyTimeoutError";
}
