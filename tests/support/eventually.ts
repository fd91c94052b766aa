/**
 * Polling for integration tests: wait, bounded, for a state the system
 * reaches on its own (an agent leaving, a session ending). Nothing timed is
 * asserted; the bound only turns a hang into a clear failure.
 *
 * @example
 * ```ts ignore
 * const s = await eventually("the session to end", async () => {
 *   const s = await info(c, "job");
 *   return s.status === "TERMINATED" ? s : undefined;
 * });
 * ```
 *
 * @module
 */

/**
 * Polls `check` every 250 ms until it answers a value (not undefined). An
 * error thrown by `check` counts as "not yet" and is reported if the wait
 * gives up.
 */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 120_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`gave up waiting for ${what}${last ? `: ${last}` : ""}`);
}
