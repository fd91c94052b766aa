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
 * Whether the database is reachable, as the store calls see it. The driver
 * does not fail fast while the server is away (a query that opens a
 * connection retries it until the server answers), so after the first
 * failure the gate is shut: calls are refused at once with 503 while a
 * probe (`probe`, bounded to 2 s) runs every second, and it opens again
 * when the probe succeeds. Requests during an outage get a quick 503
 * instead of each waiting out a timeout.
 */
export class StoreGate {
  #down = false;
  readonly #probe: () => Promise<unknown>;
  readonly #log: (line: string) => void;

  constructor(probe: () => Promise<unknown>, log: (line: string) => void) {
    this.#probe = probe;
    this.#log = log;
  }

  /** True while the database is taken for unreachable. */
  get down(): boolean {
    return this.#down;
  }

  /** A call saw the database away (or not answering): shut the gate. */
  failed(): void {
    if (this.#down) return;
    this.#down = true;
    this.#log(
      "store: the database is unreachable; answering 503 until it is back",
    );
    void this.#watch();
  }

  async #watch(): Promise<void> {
    const started = Date.now();
    while (this.#down) {
      await new Promise((r) => setTimeout(r, 1000));
      try {
        await bounded(this.#probe(), 2000);
        this.#down = false;
        this.#log(
          `store: the database is reachable again (after ${
            ((Date.now() - started) / 1000).toFixed(1)
          } s)`,
        );
      } catch {
        // Still away.
      }
    }
  }
}

class LateError extends Error {}

function bounded<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new LateError()), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

const unavailable = (why: string) =>
  new DomainError(
    "service-unavailable",
    `The manager's database ${why}; retry shortly.`,
  );

/** Options of {@link refusingStoreFailures}. */
export interface RefusingOptions {
  /** Shared reachability; without it every call waits for its own failure. */
  gate?: StoreGate;
  /** Bound on one call, ms. @default {5000} */
  timeoutMs?: number;
  /**
   * Longer bounds for named methods (bulk reads at start-up, such as
   * `listLive`, which grow with the number of sessions). @default {{}}
   */
  slowMs?: Readonly<Record<string, number>>;
  /**
   * Methods that must not be lost to an outage (a session's status change,
   * its final usage): while the database is unreachable they wait for it
   * (checking every 250 ms) and are tried again, up to `retryForMs`. The
   * caller (one session actor) waits meanwhile; everything else is refused
   * at once. @default {[]}
   */
  retry?: readonly string[];
  /** How long a {@link RefusingOptions.retry} method keeps trying, ms. @default {30000} */
  retryForMs?: number;
}

/**
 * `target` (a ports object or a repository) with every method's driver
 * failures turned into their DomainError (other failures pass unchanged),
 * each call bounded in time and refused at once while the gate is shut.
 * Actors call the store through these, and a DomainError is a refusal to
 * the actor runtime: the ask that needed the database fails with a 503 (or
 * 400, 507) while the actor keeps running with its state. Without this, a
 * database outage failed every session actor that touched the store, their
 * restarts failed again, and the restart intensity escalated until the
 * manager's tree stopped; and a query the driver lost with its connection
 * never settled, blocking the awaiting actor's mailbox for good.
 */
export function refusingStoreFailures<T extends object>(
  target: T,
  options: RefusingOptions = {},
): T {
  const { gate } = options;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const retry = new Set(options.retry ?? []);
  const retryForMs = options.retryForMs ?? 30_000;
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(target, {
    get(t, key, receiver) {
      const value = Reflect.get(t, key, receiver);
      if (typeof value !== "function") return value;
      let w = wrapped.get(key);
      if (!w) {
        const boundMs = options.slowMs?.[String(key)] ?? timeoutMs;
        const once = async (...args: unknown[]) => {
          if (gate?.down) throw unavailable("is unreachable");
          try {
            return await bounded(
              Promise.resolve(value.apply(t, args)),
              boundMs,
            );
          } catch (err) {
            if (err instanceof LateError) {
              gate?.failed();
              throw unavailable(`did not answer within ${boundMs / 1000} s`);
            }
            const explained = explainStoreFailure(err);
            if (explained?.problemType === "service-unavailable") {
              gate?.failed();
            }
            throw explained ?? err;
          }
        };
        w = !retry.has(String(key)) ? once : async (...args: unknown[]) => {
          const until = Date.now() + retryForMs;
          for (;;) {
            try {
              return await once(...args);
            } catch (err) {
              const away = err instanceof DomainError &&
                err.problemType === "service-unavailable";
              if (!away || Date.now() > until) throw err;
              await new Promise((r) => setTimeout(r, 250));
            }
          }
        };
        wrapped.set(key, w);
      }
      return w;
    },
  });
}

/**
 * The store with each repository wrapped by {@link refusingStoreFailures}
 * (the raw `sql` and plain values pass through), for the admin and web
 * deps that use repositories directly.
 */
export function refusingStore<S extends object>(
  store: S,
  options: RefusingOptions = {},
): S {
  const repos = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(t, key, receiver) {
      const value = Reflect.get(t, key, receiver);
      if (key === "sql" || value === null || typeof value !== "object") {
        return value;
      }
      let r = repos.get(key);
      if (!r) repos.set(key, r = refusingStoreFailures(value, options));
      return r;
    },
  });
}
