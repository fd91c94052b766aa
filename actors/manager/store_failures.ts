/**
 * The backstop between the store and the API: a driver failure that reached
 * the gateway unmapped (a value Postgres refused, the database being away,
 * its disk full) becomes a DomainError with a problem type, so the client
 * gets a 400, 503 or 507 instead of a 500. The edge validates input first
 * (routes/input.ts); this catches what slips past it. Wired as
 * `createGateway(deps, { explainError })` in roles/manager.ts.
 *
 * @module
 */
import { DomainError } from "./errors.ts";
import { driverFailure } from "./store/mod.ts";

/** The DomainError `err` stands for, or undefined when it is no store failure. */
export function explainStoreFailure(err: unknown): DomainError | undefined {
  switch (driverFailure(err)) {
    case "invalid-input":
      return new DomainError(
        "invalid-api-params",
        "A value in the request cannot be stored (a NUL character, an out-of-range number or an oversized value).",
      );
    case "unavailable":
      return new DomainError(
        "service-unavailable",
        "The manager's database is not reachable right now; retry shortly.",
      );
    case "storage-full":
      return new DomainError(
        "insufficient-storage",
        "The manager's database disk is full; nothing was stored.",
      );
    default:
      return undefined;
  }
}

/**
 * `ports` with every method's driver failures turned into their DomainError
 * (other failures pass unchanged). Actors call the store through these, and
 * a DomainError is a refusal to the actor runtime: the ask that needed the
 * database fails with a 503 (or 400, 507) while the actor keeps running with
 * its state. Without this, a database outage failed every session actor that
 * touched the store, their restarts failed again, and the restart intensity
 * escalated until the manager's tree stopped.
 */
export function refusingStoreFailures<T extends object>(ports: T): T {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(ports)) {
    out[name] = typeof fn !== "function"
      ? fn
      : async (...args: unknown[]) => {
        try {
          return await fn.apply(ports, args);
        } catch (err) {
          throw explainStoreFailure(err) ?? err;
        }
      };
  }
  return out as T;
}
