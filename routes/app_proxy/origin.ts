/**
 * Where session apps are served: on an origin of their own, apart from the
 * dashboard's. An app's pages run scripts the session's user controls (a
 * notebook's HTML output, a shared notebook someone else wrote); on the
 * dashboard's origin those scripts could read its pages and act with its
 * cookie session. Browsers separate origins by scheme, host *and port*, so
 * by default the manager serves apps on a port of their own (roles/
 * manager.ts); a host name of their own (`APP_PROXY_ORIGIN`) works too.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { appOriginFor, servesApps } from "./origin.ts";
 * const apps = { kind: "port", port: 8082 } as const;
 * const dashboard = new URL("http://lab.example:8081/ui/jobs");
 * assert.equal(appOriginFor(apps, dashboard), "http://lab.example:8082");
 * assert.ok(!servesApps(apps, dashboard));
 * assert.ok(servesApps(apps, new URL("http://lab.example:8082/x/apps/s/jupyter/")));
 * ```
 *
 * @module
 */

/** How the app origin is found. */
export type AppOrigin =
  /** The origin each request arrived at (no isolation: tests, one-user setups). */
  | { kind: "same" }
  /** A fixed origin, another host name of this server. */
  | { kind: "fixed"; origin: string }
  /** The host the request named, on this port (a listener of its own). */
  | { kind: "port"; port: number };

/** The origin app links point to, for a request that arrived at `url`. */
export function appOriginFor(o: AppOrigin, url: URL): string {
  switch (o.kind) {
    case "same":
      return url.origin;
    case "fixed":
      return new URL(o.origin).origin;
    case "port": {
      const host = url.hostname.includes(":")
        ? `[${url.hostname}]`
        : url.hostname;
      return `${url.protocol}//${host}:${o.port}`;
    }
  }
}

/** Whether a request that arrived at `url` may reach the app proxy. */
export function servesApps(o: AppOrigin, url: URL): boolean {
  switch (o.kind) {
    case "same":
      return true;
    case "fixed":
      return url.host === new URL(o.origin).host;
    case "port":
      return Number(url.port || (url.protocol === "https:" ? 443 : 80)) ===
        o.port;
  }
}
