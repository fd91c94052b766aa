/**
 * `GET /config/resource-slots` (public): the slot names the cluster knows and
 * their units, e.g. `{"cpu": "count", "mem": "bytes", "cuda.device": "count"}`.
 *
 * @module
 */
import type { Hono } from "hono";
import type { GatewayEnv } from "./context.ts";
import type { GatewayDeps } from "../actors/manager/port/mod.ts";

/** Mounts the public config routes. */
export function mountConfig(app: Hono<GatewayEnv>, deps: GatewayDeps): void {
  app.get(
    "/config/resource-slots",
    async (c) => c.json(await deps.resourceSlots()),
  );
}
