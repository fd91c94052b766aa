/**
 * The manager's port: everything the HTTP gateway (routes/) may call, and
 * nothing else. The manager implements it over its actors
 * (actors/manager/gateway.ts); routes code against these types only, so the
 * import graph points from the edge inward.
 *
 * Failures: implementations throw a `DomainError` (actors/manager/errors.ts)
 * or any `Error` with a `problemType` property naming an API problem
 * (e.g. `"object-not-found"`, `"too-many-sessions-matched"`,
 * `"session-already-exists"` with `problemData: { existingSessionId }`).
 * Anything else becomes a logged 500.
 *
 * @module
 */

import type { AdminDeps } from "./admin.ts";
import type { ChannelDeps } from "./channels.ts";
import type { CostDeps, SessionActivityDeps } from "./cost.ts";
import type { FolderDeps } from "./folders.ts";
import type { KeypairDeps } from "./keypairs.ts";
import type { SessionDeps } from "./sessions.ts";
import type { WebDeps } from "./web.ts";

export type * from "./admin.ts";
export type * from "./channels.ts";
export type * from "./cost.ts";
export type * from "./folders.ts";
export type * from "./keypairs.ts";
export type * from "./sessions.ts";
export type * from "./web.ts";

/** Everything the gateway calls. */
export interface GatewayDeps {
  keypairs: KeypairDeps;
  sessions: SessionDeps;
  admin: AdminDeps;
  /** Virtual folders (`/folders`); absent when the manager runs without them. */
  folders?: FolderDeps;
  /** `GET /config/resource-slots`: slot name → unit ("count", "bytes"). */
  resourceSlots(): Promise<Record<string, string>>;
  /** Our manager version, reported by `GET /`. */
  version: string;
  /** The dashboard's extra calls (`/ui`); without them no dashboard is served. */
  web?: WebDeps;
  /** Prices, estimates, usage, cost settings (`/x/cost`, `/x/usage`); absent: not mounted. */
  cost?: CostDeps;
  /** Suspend / resume / hold / touch a session (terminals, app proxies, `/x/session`). */
  activity?: SessionActivityDeps;
  /** Terminals, service-port tunnels, the app proxy (`/stream/.../pty`, `/tcpproxy`, `/x/apps`); absent: not mounted. */
  channels?: ChannelDeps;
}
