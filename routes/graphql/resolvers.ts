/**
 * Resolvers of the admin GraphQL schema (schema.ts) over the manager's port:
 * the same operations the REST routes call. Root fields are methods of the
 * root value (graphql-js calls them with `(args, context)`); nested fields
 * are plain properties of the view objects (views.ts).
 *
 * Privilege is decided here, by the caller's keypair, before any port call:
 * admin-only fields and every mutation throw {@link Refused} for a user
 * keypair, and the endpoint (mod.ts) answers the whole request 403
 * insufficient-privilege, as the REST admin API does. A user keypair sees
 * only its own keypair, policy and sessions.
 *
 * @module
 */
import { GraphQLError } from "graphql";
import type {
  Caller,
  GatewayDeps,
  KeypairView,
} from "../../actors/manager/port/mod.ts";
import { LIVE_STATUSES } from "../../actors/manager/lifecycle.ts";
import { toProblem } from "../problems.ts";
import { groupInput, policyInput } from "./inputs.ts";
import {
  agentView,
  imageView,
  keypairView,
  policyView,
  type Row,
  scalingGroupView,
  sessionView,
} from "./views.ts";

/** Per-request context of the resolvers. */
export interface GraphqlContext {
  deps: GatewayDeps;
  caller: Caller;
}

/** An admin-only field or mutation asked for by a user keypair. */
export class Refused extends Error {
  override name = "Refused";
  /** For toProblem(): the REST admin API's answer. */
  readonly problemType = "insufficient-privilege";
  constructor(what: string) {
    super(`${what} needs an admin keypair.`);
  }
}

/** The page size cap of Backend.AI's paginated queries. */
export const MAX_PAGE_SIZE = 100;

export type Args = Record<string, unknown>;

export function requireAdmin(ctx: GraphqlContext, what: string): void {
  if (!ctx.caller.isAdmin) throw new Refused(what);
}

/** Filter and order expressions are Backend.AI's own mini-language; refuse rather than ignore. */
export function noExpressions(args: Args): void {
  for (const key of ["filter", "order"]) {
    if (args[key] !== undefined && args[key] !== null) {
      throw new GraphQLError(
        `${key} expressions are not supported by this manager.`,
      );
    }
  }
}

export function page(args: Args): { limit: number; offset: number } {
  const limit = args.limit as number;
  const offset = args.offset as number;
  if (limit < 1 || limit > MAX_PAGE_SIZE) {
    throw new GraphQLError(`limit must be 1 to ${MAX_PAGE_SIZE}.`);
  }
  if (offset < 0) throw new GraphQLError("offset must not be negative.");
  return { limit, offset };
}

const csv = (v: unknown): string[] | undefined =>
  typeof v === "string" && v.trim() !== ""
    ? v.split(",").map((s) => s.trim()).filter(Boolean)
    : undefined;

async function liveCount(ctx: GraphqlContext, ak: string): Promise<number> {
  const r = await ctx.deps.admin.listSessions({
    accessKey: ak,
    status: [...LIVE_STATUSES],
    limit: 1,
    offset: 0,
  });
  return r.total;
}

async function keypairRow(
  ctx: GraphqlContext,
  k: KeypairView,
  secretKey?: string,
): Promise<Row> {
  return keypairView(k, {
    concurrencyUsed: await liveCount(ctx, k.accessKey),
    secretKey,
  });
}

async function keypairsMatching(
  ctx: GraphqlContext,
  args: Args,
): Promise<KeypairView[]> {
  return (await ctx.deps.admin.listKeypairs()).filter((k) =>
    (args.email == null || k.userId === args.email) &&
    (args.is_active == null || k.isActive === args.is_active)
  );
}

/** A mutation's `{ok, msg}` from a failure the API names; anything else is thrown. */
function failed(err: unknown): { ok: false; msg: string } {
  const p = toProblem(err);
  if (!p) throw err;
  return { ok: false, msg: p.msg ?? p.title };
}

/** The root value: one method per root field of Query and Mutation. */
export const rootValue = {
  // ---------------------------------------------------------------- keypairs
  async keypair(args: Args, ctx: GraphqlContext) {
    const ak = (args.access_key as string | null) ?? ctx.caller.requester;
    if (ak !== ctx.caller.requester) requireAdmin(ctx, "keypair of another");
    const k = (await ctx.deps.admin.listKeypairs()).find((x) =>
      x.accessKey === ak
    );
    return k ? await keypairRow(ctx, k) : null;
  },
  async keypairs(args: Args, ctx: GraphqlContext) {
    requireAdmin(ctx, "keypairs");
    const list = await keypairsMatching(ctx, args);
    return await Promise.all(list.map((k) => keypairRow(ctx, k)));
  },
  async keypair_list(args: Args, ctx: GraphqlContext) {
    requireAdmin(ctx, "keypair_list");
    noExpressions(args);
    const { limit, offset } = page(args);
    const list = await keypairsMatching(ctx, args);
    return {
      items: await Promise.all(
        list.slice(offset, offset + limit).map((k) => keypairRow(ctx, k)),
      ),
      total_count: list.length,
    };
  },

  // ------------------------------------------------------- resource policies
  async keypair_resource_policy(args: Args, ctx: GraphqlContext) {
    let name = args.name as string | null | undefined;
    if (name == null || !ctx.caller.isAdmin) {
      const own = (await ctx.deps.admin.listKeypairs()).find((k) =>
        k.accessKey === ctx.caller.requester
      )?.resourcePolicy;
      if (name != null && name !== own) {
        requireAdmin(ctx, "another keypair's resource policy");
      }
      name = own;
    }
    const p = (await ctx.deps.admin.listResourcePolicies()).find((x) =>
      x.name === name
    );
    return p ? policyView(p) : null;
  },
  async keypair_resource_policies(_args: Args, ctx: GraphqlContext) {
    requireAdmin(ctx, "keypair_resource_policies");
    return (await ctx.deps.admin.listResourcePolicies()).map(policyView);
  },

  // ------------------------------------------------------------------ agents
  async agent(args: Args, ctx: GraphqlContext) {
    requireAdmin(ctx, "agent");
    const a = (await ctx.deps.admin.listAgents()).find((x) =>
      x.id === args.agent_id
    );
    return a ? agentView(a) : null;
  },
  async agents(args: Args, ctx: GraphqlContext) {
    requireAdmin(ctx, "agents");
    return (await agentsMatching(ctx, args)).map(agentView);
  },
  async agent_list(args: Args, ctx: GraphqlContext) {
    requireAdmin(ctx, "agent_list");
    noExpressions(args);
    const { limit, offset } = page(args);
    const list = await agentsMatching(ctx, args);
    return {
      items: list.slice(offset, offset + limit).map(agentView),
      total_count: list.length,
    };
  },

  // ------------------------------------------------------------------ images
  async image(args: Args, ctx: GraphqlContext) {
    const ref = String(args.reference);
    const i = (await ctx.deps.admin.listImages()).find((x) =>
      x.ref === ref || x.name === ref
    );
    return i ? imageView(i) : null;
  },
  async images(_args: Args, ctx: GraphqlContext) {
    return (await ctx.deps.admin.listImages()).map(imageView);
  },

  // ---------------------------------------------------------- scaling groups
  async scaling_group(args: Args, ctx: GraphqlContext) {
    requireAdmin(ctx, "scaling_group");
    const g = (await ctx.deps.admin.listScalingGroups()).find((x) =>
      x.name === args.name
    );
    return g ? scalingGroupView(g) : null;
  },
  async scaling_groups(args: Args, ctx: GraphqlContext) {
    requireAdmin(ctx, "scaling_groups");
    return (await ctx.deps.admin.listScalingGroups()).filter((g) =>
      (args.name == null || g.name === args.name) &&
      (args.is_active == null || g.isActive === args.is_active)
    ).map(scalingGroupView);
  },

  // ---------------------------------------------------------------- sessions
  async compute_session(args: Args, ctx: GraphqlContext) {
    const s = await ctx.deps.admin.getSession(String(args.id));
    // Another keypair's session does not exist for a user keypair.
    if (!s || (!ctx.caller.isAdmin && s.accessKey !== ctx.caller.requester)) {
      return null;
    }
    return sessionView(s);
  },
  async compute_session_list(args: Args, ctx: GraphqlContext) {
    noExpressions(args);
    const { limit, offset } = page(args);
    let accessKey = (args.access_key as string | null) ?? undefined;
    if (!ctx.caller.isAdmin) {
      if (accessKey !== undefined && accessKey !== ctx.caller.requester) {
        requireAdmin(ctx, "sessions of another keypair");
      }
      accessKey = ctx.caller.requester;
    }
    const r = await ctx.deps.admin.listSessions({
      accessKey,
      status: csv(args.status),
      limit,
      offset,
    });
    return { items: r.sessions.map(sessionView), total_count: r.total };
  },

  // --------------------------------------------------------------- mutations
  async create_keypair(args: Args, ctx: GraphqlContext) {
    requireAdmin(ctx, "create_keypair");
    const p = args.props as Args;
    try {
      const { accessKey, secretKey } = await ctx.deps.admin.createKeypair({
        userId: String(args.user_id),
        isAdmin: p.is_admin === true,
        rateLimit: (p.rate_limit as number | null) ?? undefined,
        resourcePolicy: (p.resource_policy as string | null) ?? "default",
      });
      if (p.is_active === false) {
        await ctx.deps.admin.modifyKeypair(accessKey, { isActive: false });
      }
      const k = (await ctx.deps.admin.listKeypairs()).find((x) =>
        x.accessKey === accessKey
      );
      return {
        ok: true,
        msg: "success",
        keypair: k ? await keypairRow(ctx, k, secretKey) : null,
      };
    } catch (err) {
      return { ...failed(err), keypair: null };
    }
  },
  async modify_keypair(args: Args, ctx: GraphqlContext) {
    requireAdmin(ctx, "modify_keypair");
    const p = args.props as Args;
    try {
      await ctx.deps.admin.modifyKeypair(String(args.access_key), {
        isActive: (p.is_active as boolean | null) ?? undefined,
        isAdmin: (p.is_admin as boolean | null) ?? undefined,
        rateLimit: (p.rate_limit as number | null) ?? undefined,
        resourcePolicy: (p.resource_policy as string | null) ?? undefined,
      });
      return { ok: true, msg: "success" };
    } catch (err) {
      return failed(err);
    }
  },
  async delete_keypair(args: Args, ctx: GraphqlContext) {
    requireAdmin(ctx, "delete_keypair");
    try {
      await ctx.deps.admin.deleteKeypair(String(args.access_key));
      return { ok: true, msg: "success" };
    } catch (err) {
      return failed(err);
    }
  },
  async create_keypair_resource_policy(args: Args, ctx: GraphqlContext) {
    requireAdmin(ctx, "create_keypair_resource_policy");
    const name = String(args.name);
    const input = policyInput(args.props as Args);
    if (await policyExists(ctx, name)) {
      return {
        ok: false,
        msg: `Resource policy ${name} already exists.`,
        resource_policy: null,
      };
    }
    try {
      const p = await ctx.deps.admin.putResourcePolicy(name, input);
      return { ok: true, msg: "success", resource_policy: policyView(p) };
    } catch (err) {
      return { ...failed(err), resource_policy: null };
    }
  },
  async modify_keypair_resource_policy(args: Args, ctx: GraphqlContext) {
    requireAdmin(ctx, "modify_keypair_resource_policy");
    const name = String(args.name);
    const input = policyInput(args.props as Args);
    if (!(await policyExists(ctx, name))) {
      return { ok: false, msg: `No such resource policy: ${name}` };
    }
    try {
      await ctx.deps.admin.putResourcePolicy(name, input);
      return { ok: true, msg: "success" };
    } catch (err) {
      return failed(err);
    }
  },
  async delete_keypair_resource_policy(args: Args, ctx: GraphqlContext) {
    requireAdmin(ctx, "delete_keypair_resource_policy");
    try {
      await ctx.deps.admin.deleteResourcePolicy(String(args.name));
      return { ok: true, msg: "success" };
    } catch (err) {
      return failed(err);
    }
  },
  async create_scaling_group(args: Args, ctx: GraphqlContext) {
    requireAdmin(ctx, "create_scaling_group");
    const name = String(args.name);
    const input = groupInput(args.props as Args);
    if (await groupExists(ctx, name)) {
      return {
        ok: false,
        msg: `Scaling group ${name} already exists.`,
        scaling_group: null,
      };
    }
    try {
      const g = await ctx.deps.admin.putScalingGroup(name, input);
      return { ok: true, msg: "success", scaling_group: scalingGroupView(g) };
    } catch (err) {
      return { ...failed(err), scaling_group: null };
    }
  },
  async modify_scaling_group(args: Args, ctx: GraphqlContext) {
    requireAdmin(ctx, "modify_scaling_group");
    const name = String(args.name);
    const input = groupInput(args.props as Args);
    if (!(await groupExists(ctx, name))) {
      return { ok: false, msg: `No such scaling group: ${name}` };
    }
    try {
      await ctx.deps.admin.putScalingGroup(name, input);
      return { ok: true, msg: "success" };
    } catch (err) {
      return failed(err);
    }
  },
};

async function agentsMatching(ctx: GraphqlContext, args: Args) {
  return (await ctx.deps.admin.listAgents()).filter((a) =>
    (args.scaling_group == null || a.scalingGroup === args.scaling_group) &&
    (args.status == null || a.status === args.status)
  );
}

async function policyExists(ctx: GraphqlContext, name: string) {
  return (await ctx.deps.admin.listResourcePolicies()).some((p) =>
    p.name === name
  );
}

async function groupExists(ctx: GraphqlContext, name: string) {
  return (await ctx.deps.admin.listScalingGroups()).some((g) =>
    g.name === name
  );
}
