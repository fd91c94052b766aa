/**
 * Session lifecycle routes (API.md "Sessions") for both generations:
 * `/session/...` (v5+) and `/kernel/...` (v4, with `POST /kernel/create` and
 * `kernelId` in create replies).
 *
 * @module
 */
import type { Context, Hono } from "hono";
import { requireAuth } from "./auth.ts";
import { callerOf } from "./caller.ts";
import type { GatewayEnv } from "./context.ts";
import type { GatewayDeps } from "../actors/manager/port/mod.ts";
import {
  flagOf,
  ownerAccessKeyOf,
  parseCreateSession,
  queryParams,
  rawParams,
} from "./params.ts";
import { InsufficientPrivilege } from "./problems.ts";

/** The two path generations. */
export const SESSION_PREFIXES = ["/session", "/kernel"] as const;

/** Mounts create / get / destroy / restart / interrupt under both prefixes. */
export function mountSessions(app: Hono<GatewayEnv>, deps: GatewayDeps): void {
  for (const prefix of SESSION_PREFIXES) {
    const legacy = prefix === "/kernel";
    const create = async (c: Context<GatewayEnv>) => {
      const { request, ownerAccessKey } = parseCreateSession(rawParams(c));
      const caller = callerOf(c, ownerAccessKey);
      const result = await deps.sessions.create(caller, request);
      const body = legacy ? { ...result, kernelId: result.sessionId } : result;
      return c.json(body, result.created ? 201 : 200);
    };
    if (legacy) app.post(`${prefix}/create`, requireAuth(), create);
    app.post(prefix, requireAuth(), create);

    app.get(`${prefix}/:ref`, requireAuth(), async (c) => {
      const caller = callerOf(c, ownerAccessKeyOf(rawParams(c)));
      const info = await deps.sessions.get(caller, c.req.param("ref"));
      return c.json(legacy ? { ...info, kernelId: info.sessionId } : info);
    });

    app.delete(`${prefix}/:ref`, requireAuth(), async (c) => {
      const params = { ...queryParams(c), ...rawParams(c) };
      const caller = callerOf(c, ownerAccessKeyOf(params));
      const forced = flagOf(params, "forced");
      if (forced && !caller.isAdmin) {
        throw new InsufficientPrivilege("forced=true is admin-only");
      }
      return c.json(
        await deps.sessions.destroy(caller, c.req.param("ref"), { forced }),
      );
    });

    app.patch(`${prefix}/:ref`, requireAuth(), async (c) => {
      const caller = callerOf(c, ownerAccessKeyOf(rawParams(c)));
      await deps.sessions.restart(caller, c.req.param("ref"));
      return c.body(null, 204);
    });

    app.post(`${prefix}/:ref/interrupt`, requireAuth(), async (c) => {
      const caller = callerOf(c, ownerAccessKeyOf(rawParams(c)));
      await deps.sessions.interrupt(caller, c.req.param("ref"));
      return c.body(null, 204);
    });
  }
}
