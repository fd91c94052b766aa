/**
 * Who a call acts for: the signing keypair, or the `owner_access_key` an
 * admin named. A user keypair naming another owner gets 403.
 *
 * @module
 */
import type { Context } from "hono";
import type { GatewayEnv } from "./context.ts";
import type { Caller } from "../actors/manager/port/mod.ts";
import { AuthFailed, InsufficientPrivilege } from "./problems.ts";

/** The caller of an authenticated route; `owner` is an optional `owner_access_key`. */
export function callerOf(c: Context<GatewayEnv>, owner?: string): Caller {
  const kp = c.get("keypair");
  if (!kp) throw new AuthFailed("Credential required");
  if (owner !== undefined && owner !== kp.accessKey && !kp.isAdmin) {
    throw new InsufficientPrivilege("Only admins may act for another keypair");
  }
  return {
    accessKey: owner ?? kp.accessKey,
    requester: kp.accessKey,
    isAdmin: kp.isAdmin,
  };
}
