/**
 * Cost routes (our own, under `/x/`; port: `CostDeps` and
 * `SessionActivityDeps` in actors/manager/port/cost.ts). Bodies are
 * strict: a misspelled key is a 400 naming it.
 *
 * Any keypair (signed):
 * - `POST /x/cost/estimate` `{resources: {cpu, mem: "4g", "cuda.device"}, scalingGroup?, hours?}`
 *   → `{resources, hours, cheapest, named?, groups}` (per hour, per day, paused, total; per meter)
 * - `GET /x/cost/prices` → `{prices: {GROUP: {cpuCoreHour, memGiBHour, deviceHour} | null}}`
 * - `GET /x/cost/settings` → the keypair's settings and `today` (spent, limit, level, resetsAt, ...)
 * - `PUT /x/cost/settings` `{dailyCostLimit?, idlePauseSeconds?, action?, warnRatio?, maintain?, timeZone?}` → the same
 * - `GET /x/usage?from=&to=&limit=&offset=` → `{from, to, timeZone, totals, days, sessions, total}`
 * - `POST /x/session/{ref}/suspend` | `/resume` → the session's info (status SUSPENDED | RUNNING)
 *
 * Admin keypairs:
 * - `GET|PUT|DELETE /x/admin/scaling-groups/{name}/prices` → `{scalingGroup, prices}`
 * - `GET /x/admin/usage?accessKey=&from=&to=&timeZone=&limit=&offset=` → the report plus `keypairs`
 *
 * Every response to a keypair at 80 % or more of its daily limit carries
 * `X-BackendAI-Cost-Warning: LEVEL; spent=S; limit=L; ratio=R; resetsAt=ISO`
 * (LEVEL `warn` or `limit`), from {@link costWarningHeader}.
 *
 * @module
 */
import { z } from "zod";
import type { Hono, MiddlewareHandler } from "hono";
import { requireAdmin, requireAuth } from "./auth.ts";
import { callerOf } from "./caller.ts";
import type { GatewayEnv } from "./context.ts";
import type {
  CostDeps,
  GatewayDeps,
  SessionActivityDeps,
} from "../actors/manager/port/mod.ts";
import {
  intish,
  normalizeKeys,
  ownerAccessKeyOf,
  queryParams,
  rawParams,
  validate,
} from "./params.ts";
import { InvalidApiParams } from "./problems.ts";
import { isSizeSlot, parseBinarySize } from "../policies/slots.ts";
import {
  isValidTimeZone,
  KeypairCostSettingsPatchSchema,
  PriceTableSchema,
} from "../policies/cost/mod.ts";

/** The response header of a keypair near or at its daily cost limit. */
export const COST_WARNING_HEADER = "X-BackendAI-Cost-Warning";

/** Amounts as numbers (or their text); sizes also as `"4g"`. */
const resourcesSchema = z.record(
  z.string().regex(/^[a-z][a-z0-9._-]*$/i, "not a slot name"),
  z.union([z.number(), z.string()]),
).transform((raw, ctx) => {
  const out: Record<string, number> = {};
  for (const [slot, v] of Object.entries(raw)) {
    let n = NaN;
    try {
      n = isSizeSlot(slot)
        ? parseBinarySize(v)
        : typeof v === "number"
        ? v
        : v.trim() === ""
        ? NaN
        : Number(v);
    } catch { /* reported below */ }
    if (!Number.isFinite(n) || n < 0) {
      ctx.addIssue({
        code: "custom",
        path: [slot],
        message: `${slot} must be a non-negative amount${
          isSizeSlot(slot) ? " or a binary size such as 4g" : ""
        }`,
      });
      continue;
    }
    out[slot] = n;
  }
  return out;
});

const estimateSchema = z.strictObject({
  resources: resourcesSchema,
  scalingGroup: z.string().min(1).max(64).optional(),
  hours: z.number().positive().max(24 * 400).optional(),
});

const dateOrTime = z.string().max(40).refine(
  (s) => /^\d{4}-\d{2}-\d{2}$/.test(s) || Number.isFinite(Date.parse(s)),
  { message: "a date (YYYY-MM-DD) or an ISO 8601 time" },
);

const usageSchema = z.object({
  from: dateOrTime.optional(),
  to: dateOrTime.optional(),
  limit: intish.pipe(z.number().int().min(1).max(1000)).default(100),
  offset: intish.pipe(z.number().int().min(0)).default(0),
});

const adminUsageSchema = usageSchema.extend({
  accessKey: z.string().min(1).max(64).optional(),
  timeZone: z.string().max(64).refine(isValidTimeZone, "unknown time zone")
    .optional(),
});

/** Query and body parameters together, `owner_access_key` left out. */
function params(c: Parameters<typeof rawParams>[0]): Record<string, unknown> {
  const p = normalizeKeys({ ...queryParams(c), ...rawParams(c) });
  delete p.ownerAccessKey;
  return p;
}

/**
 * Sets {@link COST_WARNING_HEADER} on responses to a keypair at 80 % or
 * more of its daily limit. Register it before the routes (it wraps them).
 */
export function costWarningHeader(
  cost: CostDeps | undefined,
): MiddlewareHandler<GatewayEnv> {
  return async (c, next) => {
    await next();
    const kp = cost && c.get("keypair");
    if (!kp || c.res.status === 101) return;
    const warning = cost.warning(kp.accessKey);
    if (warning) c.res.headers.set(COST_WARNING_HEADER, warning);
  };
}

/** Mounts the cost routes and the warning header (call before the other routes). */
export function mountCost(app: Hono<GatewayEnv>, deps: GatewayDeps): void {
  const cost = deps.cost;
  app.use("*", costWarningHeader(cost));
  if (deps.activity) mountActivity(app, deps.activity);
  if (!cost) return;

  app.post("/x/cost/estimate", requireAuth(), async (c) => {
    const raw = rawParams(c);
    const caller = callerOf(c, ownerAccessKeyOf(raw));
    const body = normalizeKeys(raw);
    delete body.ownerAccessKey;
    const req = validate(estimateSchema, body);
    const known = Object.keys(await deps.resourceSlots());
    const unknown = Object.keys(req.resources).filter((s) =>
      !known.includes(s)
    );
    if (unknown.length) {
      throw new InvalidApiParams(
        `Unknown resource slot ${unknown.join(", ")} (known: ${
          known.join(", ")
        })`,
        unknown.map((s) => ({ path: `resources.${s}`, message: "unknown" })),
      );
    }
    return c.json(await cost.estimate(caller, req));
  });
  app.get(
    "/x/cost/prices",
    requireAuth(),
    async (c) => c.json({ prices: await cost.prices() }),
  );
  app.get("/x/cost/settings", requireAuth(), async (c) => {
    const caller = callerOf(c, ownerAccessKeyOf(queryParams(c)));
    return c.json(await cost.settings(caller));
  });
  app.put("/x/cost/settings", requireAuth(), async (c) => {
    const raw = rawParams(c);
    const caller = callerOf(c, ownerAccessKeyOf(raw));
    const body = normalizeKeys(raw);
    delete body.ownerAccessKey;
    const patch = validate(KeypairCostSettingsPatchSchema, body, {
      keepNull: ["dailyCostLimit"],
    });
    return c.json(await cost.putSettings(caller, patch));
  });
  app.get("/x/usage", requireAuth(), async (c) => {
    const caller = callerOf(c, ownerAccessKeyOf(queryParams(c)));
    return c.json(await cost.usage(caller, validate(usageSchema, params(c))));
  });

  app.get("/x/admin/usage", requireAdmin(), async (c) => {
    return c.json(
      await cost.adminUsage(validate(adminUsageSchema, params(c))),
    );
  });
  const prices = "/x/admin/scaling-groups/:name/prices";
  app.get(
    prices,
    requireAdmin(),
    async (c) => c.json(await cost.getPrices(c.req.param("name"))),
  );
  app.put(prices, requireAdmin(), async (c) => {
    const table = validate(PriceTableSchema, normalizeKeys(rawParams(c)));
    return c.json(await cost.putPrices(c.req.param("name"), table));
  });
  app.delete(
    prices,
    requireAdmin(),
    async (c) => c.json(await cost.putPrices(c.req.param("name"), null)),
  );
}

function mountActivity(app: Hono<GatewayEnv>, activity: SessionActivityDeps) {
  app.post("/x/session/:ref/suspend", requireAuth(), async (c) => {
    const caller = callerOf(c, ownerAccessKeyOf(rawParams(c)));
    return c.json(await activity.suspend(caller, c.req.param("ref")));
  });
  app.post("/x/session/:ref/resume", requireAuth(), async (c) => {
    const caller = callerOf(c, ownerAccessKeyOf(rawParams(c)));
    return c.json(await activity.resume(caller, c.req.param("ref")));
  });
}
