/**
 * The gateway's keypair look-up with bounded memory for keys that do not
 * exist. Every signed request names an access key, and a look-up activates
 * that key's KeypairActor entity, which then lives for its idle time (20
 * minutes, longer than the rate window). For a real key that is the point;
 * for a random one it is memory an anonymous client can grow at will (9,000
 * random keys grew a manager by ~115 MiB). So an entity that found no
 * keypair is passivated at once, and the miss is remembered in a small,
 * bounded, short-lived negative cache, so a flood of the same unknown key
 * costs neither an actor nor a store query each time.
 *
 * @module
 */
import type { Entities } from "../runtime/types.ts";
import type { KeypairAuth } from "./port/mod.ts";
import type { KeypairMsg } from "./keypair.ts";

/** Options of {@link boundedKeypairLookup}. */
export interface KeypairLookupOptions {
  /** Unknown keys remembered at most (oldest forgotten first). @default {10000} */
  maxMisses?: number;
  /** How long a miss is remembered, ms; a key created meanwhile waits this long. @default {10000} */
  missTtlMs?: number;
  /** Ask timeout. @default {15000} */
  timeoutMs?: number;
  /** Clock. @default {performance.now} */
  now?: () => number;
}

/** A look-up plus a way to drop a remembered miss (a keypair just created). */
export interface KeypairLookup {
  lookup(accessKey: string): Promise<KeypairAuth | undefined>;
  forget(accessKey: string): void;
  /** Misses currently remembered (for tests and metrics). */
  readonly misses: number;
}

/**
 * Wraps the keypair entities' `auth` ask.
 *
 * @example
 * ```ts ignore
 * const keys = boundedKeypairLookup(system.entities("keypairs", ...));
 * deps.keypairs.lookup = keys.lookup;
 * ```
 */
export function boundedKeypairLookup(
  entities: Entities<KeypairMsg>,
  options: KeypairLookupOptions = {},
): KeypairLookup {
  const maxMisses = options.maxMisses ?? 10_000;
  const ttl = options.missTtlMs ?? 10_000;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const now = options.now ?? (() => performance.now());
  /** Miss expiry by key; Map order is insertion order, so the first is the oldest. */
  const misses = new Map<string, number>();

  const remember = (ak: string) => {
    misses.delete(ak);
    if (misses.size >= maxMisses) {
      misses.delete(misses.keys().next().value as string);
    }
    misses.set(ak, now() + ttl);
  };

  return {
    async lookup(ak) {
      const until = misses.get(ak);
      if (until !== undefined) {
        if (until > now()) return undefined;
        misses.delete(ak);
      }
      const auth = await entities.ref(ak).ask<KeypairAuth | undefined>(
        { type: "auth" },
        { timeoutMs },
      );
      if (auth === undefined) {
        remember(ak);
        // No keypair behind it: nothing to keep warm (no window, no counts).
        void entities.passivate(ak).catch(() => {});
      }
      return auth;
    },
    forget(ak) {
      misses.delete(ak);
    },
    get misses() {
      return misses.size;
    },
  };
}
