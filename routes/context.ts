/**
 * The Hono environment shared by every gateway module: what earlier
 * middleware leaves on the context for later handlers.
 *
 * @module
 */
import type { KeypairAuth } from "../actors/manager/port/mod.ts";

/** Per-request values set by middleware. */
export interface GatewayVariables {
  /** The `X-BackendAI-Version` (or `X-Sorna-Version`) value, when sent. */
  apiVersion?: string;
  /** Set by auth.ts when the request carried a valid signature. */
  keypair?: KeypairAuth;
  /** Set by rate_limit.ts for authorized requests. */
  rateLimit?: { limit: number; remaining: number };
  /** The request body, read once under the size limit by body.ts. */
  body: Uint8Array<ArrayBuffer>;
}

/** Hono `Env` of the gateway app. */
export interface GatewayEnv {
  Variables: GatewayVariables;
}
