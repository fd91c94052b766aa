/**
 * Mutation inputs of the admin GraphQL schema (snake_case, JSON-valued
 * fields as JSON text) checked and turned into the port's fields: a value
 * the REST admin API would refuse is a GraphQL error here, before any
 * port call.
 *
 * @module
 */
import { GraphQLError } from "graphql";
import { parseBinarySize } from "../../policies/slots.ts";
import { SCHEDULER_KINDS } from "../../policies/scheduling/mod.ts";
import { isSizeParam } from "../params.ts";

type Args = Record<string, unknown>;

/** `total_resource_slots` JSON text → slot amounts, or a GraphQL error. */
function slotsFromJson(text: unknown): Record<string, number> | undefined {
  if (text === undefined || text === null) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(String(text));
  } catch {
    throw new GraphQLError("total_resource_slots must be JSON text.");
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new GraphQLError("total_resource_slots must be a JSON object.");
  }
  const out: Record<string, number> = {};
  for (const [slot, v] of Object.entries(parsed)) {
    let n: number;
    try {
      n = isSizeParam(slot) && typeof v === "string"
        ? parseBinarySize(v)
        : typeof v === "number"
        ? v
        : typeof v === "string" && /^\d+(\.\d+)?$/.test(v)
        ? Number(v)
        : NaN;
    } catch {
      n = NaN;
    }
    if (!Number.isFinite(n) || n < 0) {
      throw new GraphQLError(`Invalid amount for slot ${slot}.`);
    }
    out[slot] = n;
  }
  return out;
}

function nonNegativeInt(v: unknown, name: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
    throw new GraphQLError(`${name} must be a non-negative integer.`);
  }
  return v;
}

/** Resource-policy props (snake_case GraphQL input) → the port's fields. */
export function policyInput(p: Args): Record<string, unknown> {
  const out: Record<string, unknown> = {
    totalResourceSlots: slotsFromJson(p.total_resource_slots),
    maxConcurrentSessions: nonNegativeInt(
      p.max_concurrent_sessions,
      "max_concurrent_sessions",
    ),
    maxContainersPerSession: nonNegativeInt(
      p.max_containers_per_session,
      "max_containers_per_session",
    ),
    idleTimeout: nonNegativeInt(p.idle_timeout, "idle_timeout"),
    maxSessionLifetime: nonNegativeInt(
      p.max_session_lifetime,
      "max_session_lifetime",
    ),
    maxVfolderCount: nonNegativeInt(p.max_vfolder_count, "max_vfolder_count"),
    maxVfolderSize: nonNegativeInt(p.max_vfolder_size, "max_vfolder_size"),
  };
  if (out.maxContainersPerSession === 0) {
    throw new GraphQLError("max_containers_per_session must be at least 1.");
  }
  return Object.fromEntries(
    Object.entries(out).filter(([, v]) => v !== undefined),
  );
}

function jsonObject(text: unknown, name: string): Record<string, unknown> {
  if (text === undefined || text === null || text === "null") return {};
  try {
    const v = JSON.parse(String(text));
    if (v === null) return {};
    if (typeof v === "object" && !Array.isArray(v)) return v;
  } catch { /* below */ }
  throw new GraphQLError(`${name} must be a JSON object.`);
}

/** Scaling-group props → the port's fields. */
export function groupInput(p: Args): Record<string, unknown> {
  if (p.driver != null && p.driver !== "static") {
    throw new GraphQLError(
      `driver "${p.driver}" is not supported: agents join groups on their own (static).`,
    );
  }
  const scheduler = p.scheduler ?? undefined;
  if (
    scheduler !== undefined &&
    !(SCHEDULER_KINDS as readonly unknown[]).includes(scheduler)
  ) {
    throw new GraphQLError(
      `Unknown scheduler "${scheduler}" (one of ${
        SCHEDULER_KINDS.join(", ")
      }).`,
    );
  }
  const out: Record<string, unknown> = {
    isActive: p.is_active ?? undefined,
    scheduler,
    schedulerOpts: p.scheduler_opts == null
      ? undefined
      : jsonObject(p.scheduler_opts, "scheduler_opts"),
  };
  return Object.fromEntries(
    Object.entries(out).filter(([, v]) => v !== undefined),
  );
}
