/**
 * Who calls the manager and how a keypair is authenticated and limited: the
 * part of the manager's port the gateway's middleware uses on every request.
 *
 * @module
 */

/** What the gateway needs to know about a keypair to authenticate and limit it. */
export interface KeypairAuth {
  accessKey: string;
  secretKey: string;
  isActive: boolean;
  isAdmin: boolean;
  /** Requests allowed per rolling 900 s window; `undefined` → the gateway default. */
  rateLimit?: number;
  resourcePolicy: string;
  userId?: string;
}

/**
 * Who a call acts for. `accessKey` is the owning keypair (the requester's, or
 * the `owner_access_key` an admin named); `requester` is who signed it.
 */
export interface Caller {
  accessKey: string;
  requester: string;
  isAdmin: boolean;
}

/** Keypair look-ups on the hot path. */
export interface KeypairDeps {
  lookup(accessKey: string): Promise<KeypairAuth | undefined>;
  /** Counts one request in the rolling 900 s window ending at `now` (ms). */
  hit(
    accessKey: string,
    limit: number,
    now: number,
  ): Promise<{ allowed: boolean; remaining: number }>;
}

/** A keypair as admins see it (no secret). */
export interface KeypairView {
  accessKey: string;
  userId?: string;
  isActive: boolean;
  isAdmin: boolean;
  rateLimit?: number;
  resourcePolicy: string;
  [extra: string]: unknown;
}

/** Input of `POST /x/admin/keypairs`. */
export interface CreateKeypairRequest {
  userId?: string;
  isAdmin: boolean;
  rateLimit?: number;
  resourcePolicy: string;
}
