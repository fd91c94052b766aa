/**
 * The storage nodes' origins the dashboard's CSP lets pages connect to
 * (tus uploads go from the browser straight to a storage node), read from
 * the port and kept for a while so a page load costs no extra ask.
 *
 * @module
 */
import type { WebDeps } from "../../actors/manager/port/mod.ts";
import { cspOrigin } from "./headers.ts";

/** A cached list of origins. */
export interface StorageOrigins {
  /** The origins known now (possibly stale; never throws). */
  current(): readonly string[];
  /** Refreshes them when older than the cache time; resolves once known. */
  fresh(): Promise<readonly string[]>;
}

/** Builds the cache over `web.storageUrls` (none when the port has no folders). */
export function storageOrigins(
  web: Pick<WebDeps, "storageUrls">,
  maxAgeMs: number,
  now: () => number = Date.now,
): StorageOrigins {
  let origins: readonly string[] = [];
  let at = -Infinity;
  let loading: Promise<readonly string[]> | undefined;
  const load = async () => {
    try {
      const urls = await web.storageUrls?.() ?? [];
      origins = [
        ...new Set(urls.map(cspOrigin).filter((o): o is string => !!o)),
      ];
      at = now();
    } catch {
      // The registry did not answer: keep what was known, try again next time.
    } finally {
      loading = undefined;
    }
    return origins;
  };
  return {
    current: () => origins,
    fresh() {
      if (now() - at < maxAgeMs) return Promise.resolve(origins);
      return loading ??= load();
    },
  };
}
