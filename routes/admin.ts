/**
 * Our admin API under `/x/admin/...` (not part of Backend.AI's wire format):
 * keypairs, resource policies, scaling groups, agents, sessions across
 * keypairs, images. Admin keypairs only (401 anonymous, 403 user keypairs).
 *
 * Routes:
 * - `POST /x/admin/keypairs` → 201 `{accessKey, secretKey}` (the only time the secret is shown)
 * - `GET /x/admin/keypairs` → `{keypairs}`
 * - `POST /x/admin/keypairs/{ak}/deactivate` → 204; `DELETE /x/admin/keypairs/{ak}` → 204
 * - `GET /x/admin/resource-policies` → `{resourcePolicies}`; `PUT|DELETE /x/admin/resource-policies/{name}`
 * - `GET /x/admin/scaling-groups` → `{scalingGroups}`; `PUT /x/admin/scaling-groups/{name}`
 * - `GET /x/admin/agents` → `{agents}`; `GET /x/admin/agents/{id}`
 * - `GET /x/admin/sessions?accessKey=&status=RUNNING,PENDING&limit=&offset=` → `{sessions, total}`
 * - `GET /x/admin/images` → `{images}`
 *
 * Scheduling and scaling ({@link ClusterAdminDeps}, part of `AdminDeps`):
 * - `POST /x/admin/agents/{id}/drain` | `/undrain` → the agent (`schedulable` false | true)
 * - `POST /x/admin/agents/{id}/stop` → 204: stops an autoscaler-started agent now, protected work included
 * - `GET /x/admin/scheduler/pending?scalingGroup=` → `{pending: [{sessionId, scalingGroup, slots, since, code, reason}]}`
 * - `PUT /x/admin/scaling-groups/{name}/scheduler` `{scheduler}` (a name in `SCHEDULER_KINDS`, policies/scheduling/registry.ts) → the group
 * - `GET|PUT /x/admin/scaling-groups/{name}/autoscaler` → `{config, status}` (PUT body: the config, see actors/manager/autoscaler_config.ts)
 * - `POST /x/admin/debug/crash/scheduler` → 202, only when the manager runs with `BAI_DEBUG_HOOKS=1` (supervision tests)
 *
 * @module
 */
import { z } from "zod";
import type { Hono } from "hono";
import { requireAdmin } from "./auth.ts";
import {
  DEFAULT_SCHEDULER,
  SCHEDULER_KINDS,
} from "../policies/scheduling/mod.ts";
import type { GatewayEnv } from "./context.ts";
import { SESSION_STATUSES } from "../actors/manager/lifecycle.ts";
import type {
  ClusterAdminDeps,
  GatewayDeps,
} from "../actors/manager/port/mod.ts";
import {
  intish,
  isSizeParam,
  normalizeKeys,
  queryParams,
  rawParams,
  validate,
} from "./params.ts";
import { InvalidApiParams } from "./problems.ts";
import { parseBinarySize } from "../policies/slots.ts";

// Our own bodies are strict: a misspelled key (`maxSessions`) is a 400
// naming it, not a setting silently ignored.
const createKeypairSchema = z.object({
  userId: z.string().min(1).optional(),
  isAdmin: z.boolean().default(false),
  rateLimit: z.number().int().positive().optional(),
  resourcePolicy: z.string().min(1).default("default"),
}).strict();

/**
 * Slot caps as numbers: counts as non-negative numbers (or their text),
 * memory-like slots also as binary sizes (`"4g"`, `"512MiB"`). A value the
 * admission check could not compare (`"abc"`, `-5`) is refused.
 */
const slotCapsSchema = z.record(
  z.string().regex(/^[a-z][a-z0-9._-]*$/i, "not a slot name"),
  z.union([z.number(), z.string()]),
).transform((caps, ctx) => {
  const out: Record<string, number> = {};
  for (const [slot, raw] of Object.entries(caps)) {
    let n: number;
    try {
      n = isSizeParam(slot)
        ? parseBinarySize(raw)
        : typeof raw === "number"
        ? raw
        : raw.trim() === ""
        ? NaN
        : Number(raw);
    } catch (e) {
      ctx.addIssue({ code: "custom", message: String(e), path: [slot] });
      continue;
    }
    if (!Number.isFinite(n) || n < 0) {
      ctx.addIssue({
        code: "custom",
        message: `${slot} must be a non-negative number${
          isSizeParam(slot) ? " or a binary size such as 4g" : ""
        }, got ${JSON.stringify(raw)}`,
        path: [slot],
      });
      continue;
    }
    out[slot] = n;
  }
  return out;
});

const resourcePolicySchema = z.object({
  totalResourceSlots: slotCapsSchema.default({}),
  maxConcurrentSessions: z.number().int().nonnegative().optional(),
  maxContainersPerSession: z.number().int().positive().optional(),
  idleTimeout: z.number().int().nonnegative().optional(),
  maxSessionLifetime: z.number().int().nonnegative().optional(),
  maxVfolderCount: z.number().int().nonnegative().optional(),
  maxVfolderSize: z.number().int().nonnegative().optional(),
  maxScratchSize: z.number().int().nonnegative().optional(),
  dailyCostLimit: z.number().nonnegative().nullable().optional(),
}).strict();

const scalingGroupSchema = z.object({
  isActive: z.boolean().default(true),
  scheduler: z.enum(SCHEDULER_KINDS).default(DEFAULT_SCHEDULER),
  schedulerOpts: z.record(z.string(), z.unknown()).default({}),
}).strict();

const STATUS = z.enum(SESSION_STATUSES);

const sessionFilterSchema = z.object({
  accessKey: z.string().min(1).optional(),
  status: z.union([z.string(), z.array(z.string())]).optional().transform((s) =>
    s === undefined
      ? undefined
      : (Array.isArray(s) ? s : s.split(",")).map((x) => x.trim()).filter(
        Boolean,
      )
  ).pipe(z.array(STATUS).optional()),
  limit: intish.pipe(z.number().int().min(1).max(1000)).default(100),
  offset: intish.pipe(z.number().int().min(0)).default(0),
});

/** Kept for imports of its old home; defined with the other deps. */
export type { ClusterAdminDeps } from "../actors/manager/port/mod.ts";

const schedulerSchema = z.object({
  scheduler: z.enum(SCHEDULER_KINDS),
}).strict();

function mountClusterAdmin(app: Hono<GatewayEnv>, ops: ClusterAdminDeps) {
  app.post(
    "/x/admin/agents/:id/drain",
    async (c) => c.json(await ops.setAgentDraining(c.req.param("id"), true)),
  );
  app.post(
    "/x/admin/agents/:id/undrain",
    async (c) => c.json(await ops.setAgentDraining(c.req.param("id"), false)),
  );
  app.post("/x/admin/agents/:id/stop", async (c) => {
    await ops.stopAgent(c.req.param("id"));
    return c.body(null, 204);
  });
  app.get("/x/admin/scheduler/pending", async (c) => {
    const group = queryParams(c).scalingGroup;
    return c.json({
      pending: await ops.pendingSessions(
        typeof group === "string" ? group : undefined,
      ),
    });
  });
  app.put("/x/admin/scaling-groups/:name/scheduler", async (c) => {
    const { scheduler } = validate(
      schedulerSchema,
      normalizeKeys(rawParams(c)),
    );
    return c.json(await ops.setScheduler(c.req.param("name"), scheduler));
  });
  app.get(
    "/x/admin/scaling-groups/:name/autoscaler",
    async (c) => c.json(await ops.getAutoscaler(c.req.param("name"))),
  );
  app.put(
    "/x/admin/scaling-groups/:name/autoscaler",
    async (c) =>
      c.json(
        await ops.putAutoscaler(
          c.req.param("name"),
          normalizeKeys(rawParams(c)),
        ),
      ),
  );
  const crash = ops.debugCrash?.bind(ops);
  if (crash) {
    app.post("/x/admin/debug/crash/scheduler", async (c) => {
      await crash("scheduler");
      return c.body(null, 202);
    });
  }
}

/** Mounts `/x/admin/...`. */
export function mountAdmin(app: Hono<GatewayEnv>, deps: GatewayDeps): void {
  const admin = deps.admin;
  app.use("/x/admin/*", requireAdmin());

  app.post("/x/admin/keypairs", async (c) => {
    const req = validate(createKeypairSchema, normalizeKeys(rawParams(c)));
    return c.json(await admin.createKeypair(req), 201);
  });
  app.get(
    "/x/admin/keypairs",
    async (c) => c.json({ keypairs: await admin.listKeypairs() }),
  );
  app.post("/x/admin/keypairs/:ak/deactivate", async (c) => {
    await admin.deactivateKeypair(c.req.param("ak"));
    return c.body(null, 204);
  });
  app.delete("/x/admin/keypairs/:ak", async (c) => {
    await admin.deleteKeypair(c.req.param("ak"));
    return c.body(null, 204);
  });

  app.get(
    "/x/admin/resource-policies",
    async (c) =>
      c.json({ resourcePolicies: await admin.listResourcePolicies() }),
  );
  app.put("/x/admin/resource-policies/:name", async (c) => {
    // `dailyCostLimit: null` clears the limit (absent keeps it).
    const policy = validate(resourcePolicySchema, normalizeKeys(rawParams(c)), {
      keepNull: ["dailyCostLimit"],
    });
    const known = Object.keys(await deps.resourceSlots());
    const unknown = Object.keys(policy.totalResourceSlots).filter((s) =>
      !known.includes(s)
    );
    if (unknown.length > 0) {
      throw new InvalidApiParams(
        `Unknown resource slot ${unknown.join(", ")} (known: ${
          known.join(", ")
        })`,
        unknown.map((s) => ({
          path: `totalResourceSlots.${s}`,
          message: "unknown slot",
        })),
      );
    }
    return c.json(await admin.putResourcePolicy(c.req.param("name"), policy));
  });
  app.delete("/x/admin/resource-policies/:name", async (c) => {
    await admin.deleteResourcePolicy(c.req.param("name"));
    return c.body(null, 204);
  });

  app.get(
    "/x/admin/scaling-groups",
    async (c) => c.json({ scalingGroups: await admin.listScalingGroups() }),
  );
  app.put("/x/admin/scaling-groups/:name", async (c) => {
    const group = validate(scalingGroupSchema, normalizeKeys(rawParams(c)));
    return c.json(await admin.putScalingGroup(c.req.param("name"), group));
  });

  app.get(
    "/x/admin/agents",
    async (c) => c.json({ agents: await admin.listAgents() }),
  );
  mountClusterAdmin(app, admin);
  app.get(
    "/x/admin/agents/:id",
    async (c) => c.json(await admin.getAgent(c.req.param("id"))),
  );

  app.get("/x/admin/sessions", async (c) => {
    const f = validate(
      sessionFilterSchema,
      normalizeKeys({ ...queryParams(c), ...rawParams(c) }),
    );
    return c.json(await admin.listSessions(f));
  });
  app.get(
    "/x/admin/images",
    async (c) => c.json({ images: await admin.listImages() }),
  );
}
