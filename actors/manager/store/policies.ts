/**
 * Resource policies: the limits a keypair's sessions must respect.
 *
 * @module
 */
import type postgres from "postgres";
import type { ResourcePolicy, ResourceSlots } from "./types.ts";
import {
  isForeignKeyViolation,
  json,
  num,
  numOrNull,
  type Row,
} from "./_row.ts";
import { InUseError } from "./errors.ts";

/** Fields of {@link PolicyRepo.upsert}; omitted ones take the column default (on insert) or stay (on update). */
export type ResourcePolicyInput =
  & { name: string }
  & Partial<Omit<ResourcePolicy, "name" | "createdAt">>;

function toPolicy(r: Row): ResourcePolicy {
  return {
    name: String(r.name),
    totalResourceSlots: r.total_resource_slots as ResourceSlots,
    maxConcurrentSessions: num(r.max_concurrent_sessions),
    maxContainersPerSession: num(r.max_containers_per_session),
    idleTimeout: num(r.idle_timeout),
    maxSessionLifetime: num(r.max_session_lifetime),
    maxVfolderCount: num(r.max_vfolder_count),
    maxVfolderSize: num(r.max_vfolder_size),
    maxScratchSize: num(r.max_scratch_size),
    dailyCostLimit: numOrNull(r.daily_cost_limit),
    createdAt: r.created_at as Date,
  };
}

/** Reads and writes `resource_policies`. */
export class PolicyRepo {
  constructor(private readonly sql: postgres.Sql) {}

  /** The policy, or null. */
  async get(name: string): Promise<ResourcePolicy | null> {
    const [row] = await this
      .sql`select * from resource_policies where name = ${name}`;
    return row ? toPolicy(row) : null;
  }

  /** All policies by name. */
  async list(): Promise<ResourcePolicy[]> {
    return (await this.sql`select * from resource_policies order by name`).map(
      toPolicy,
    );
  }

  /**
   * Deletes the policy; false when there was none. Throws {@link InUseError}
   * while a keypair uses it.
   */
  async delete(name: string): Promise<boolean> {
    try {
      const rows = await this
        .sql`delete from resource_policies where name = ${name} returning name`;
      return rows.length > 0;
    } catch (e) {
      if (!isForeignKeyViolation(e)) throw e;
      const [{ n }] = await this
        .sql`select count(*)::int as n from keypairs where resource_policy = ${name}`;
      throw new InUseError("resource policy", name, `${n} keypair(s)`);
    }
  }

  /** Creates the policy or updates the given fields of an existing one. */
  async upsert(p: ResourcePolicyInput): Promise<ResourcePolicy> {
    const slots = p.totalResourceSlots === undefined
      ? null
      : json(p.totalResourceSlots);
    const [row] = await this.sql`
      insert into resource_policies as p (
        name, total_resource_slots, max_concurrent_sessions, max_containers_per_session,
        idle_timeout, max_session_lifetime, max_vfolder_count, max_vfolder_size, max_scratch_size,
        daily_cost_limit)
      values (
        ${p.name},
        coalesce(${slots}::text::jsonb, '{}'::jsonb),
        coalesce(${p.maxConcurrentSessions ?? null}::int, 5),
        coalesce(${p.maxContainersPerSession ?? null}::int, 1),
        coalesce(${p.idleTimeout ?? null}::int, 1800),
        coalesce(${p.maxSessionLifetime ?? null}::int, 0),
        coalesce(${p.maxVfolderCount ?? null}::int, 10),
        coalesce(${p.maxVfolderSize ?? null}::bigint, 0),
        coalesce(${p.maxScratchSize ?? null}::bigint, 0),
        ${p.dailyCostLimit ?? null}::numeric)
      on conflict (name) do update set
        total_resource_slots = coalesce(${slots}::text::jsonb, p.total_resource_slots),
        max_concurrent_sessions = coalesce(${
      p.maxConcurrentSessions ?? null
    }::int, p.max_concurrent_sessions),
        max_containers_per_session = coalesce(${
      p.maxContainersPerSession ?? null
    }::int, p.max_containers_per_session),
        idle_timeout = coalesce(${p.idleTimeout ?? null}::int, p.idle_timeout),
        max_session_lifetime = coalesce(${
      p.maxSessionLifetime ?? null
    }::int, p.max_session_lifetime),
        max_vfolder_count = coalesce(${
      p.maxVfolderCount ?? null
    }::int, p.max_vfolder_count),
        max_vfolder_size = coalesce(${
      p.maxVfolderSize ?? null
    }::bigint, p.max_vfolder_size),
        max_scratch_size = coalesce(${
      p.maxScratchSize ?? null
    }::bigint, p.max_scratch_size),
        daily_cost_limit = case when ${p.dailyCostLimit === undefined}::boolean
                                then p.daily_cost_limit else ${
      p.dailyCostLimit ?? null
    }::numeric end
      returning *`;
    return toPolicy(row);
  }
}
