/**
 * Scaling groups: named sets of agents with their scheduler and autoscaler
 * settings.
 *
 * @module
 */
import type postgres from "postgres";
import type { Json, ScalingGroup } from "./types.ts";
import {
  DEFAULT_SCHEDULER,
  isSchedulerKind,
} from "../../../policies/scheduling/mod.ts";
import { json, type Row } from "./_row.ts";

/** Fields of {@link ScalingGroupRepo.upsert}. */
export type ScalingGroupInput =
  & { name: string }
  & Partial<Omit<ScalingGroup, "name" | "createdAt">>;

function toScalingGroup(r: Row): ScalingGroup {
  return {
    name: String(r.name),
    isActive: Boolean(r.is_active),
    // A kind this build does not know (the column has no CHECK: the
    // registry validates writes) schedules as the default, not at all.
    scheduler: isSchedulerKind(r.scheduler) ? r.scheduler : DEFAULT_SCHEDULER,
    schedulerOpts: r.scheduler_opts as Record<string, Json>,
    autoscaler: r.autoscaler as Record<string, Json>,
    createdAt: r.created_at as Date,
  };
}

/** Reads and writes `scaling_groups`. */
export class ScalingGroupRepo {
  constructor(private readonly sql: postgres.Sql) {}

  /** The scaling group, or null. */
  async get(name: string): Promise<ScalingGroup | null> {
    const [row] = await this
      .sql`select * from scaling_groups where name = ${name}`;
    return row ? toScalingGroup(row) : null;
  }

  /** All scaling groups by name. */
  async list(): Promise<ScalingGroup[]> {
    return (await this.sql`select * from scaling_groups order by name`).map(
      toScalingGroup,
    );
  }

  /** Creates the group or updates the given fields. */
  async upsert(g: ScalingGroupInput): Promise<ScalingGroup> {
    const opts = g.schedulerOpts === undefined ? null : json(g.schedulerOpts);
    const auto = g.autoscaler === undefined ? null : json(g.autoscaler);
    const [row] = await this.sql`
      insert into scaling_groups as g (name, is_active, scheduler, scheduler_opts, autoscaler)
      values (${g.name}, coalesce(${g.isActive ?? null}::boolean, true), ${
      g.scheduler ?? DEFAULT_SCHEDULER
    },
              coalesce(${opts}::text::jsonb, '{}'::jsonb), coalesce(${auto}::text::jsonb, '{}'::jsonb))
      on conflict (name) do update set
        is_active = coalesce(${g.isActive ?? null}::boolean, g.is_active),
        scheduler = coalesce(${g.scheduler ?? null}, g.scheduler),
        scheduler_opts = coalesce(${opts}::text::jsonb, g.scheduler_opts),
        autoscaler = coalesce(${auto}::text::jsonb, g.autoscaler)
      returning *`;
    return toScalingGroup(row);
  }
}
