/**
 * Agents as the manager last saw them: capacity, occupancy, liveness.
 *
 * @module
 */
import type postgres from "postgres";
import type {
  Agent,
  AgentDrain,
  AgentDrainedBy,
  AgentStatus,
  Json,
  ResourceSlots,
} from "./types.ts";
import { dateOrNull, json, type Row } from "./_row.ts";

/** What an agent reports when it registers or heartbeats. */
export interface AgentInput {
  id: string;
  addr: string;
  /** @default {"local"} */
  region?: string;
  /** @default {"default"} */
  scalingGroup?: string;
  resourceSlots: ResourceSlots;
  /** @default {resourceSlots} */
  availableSlots?: ResourceSlots;
  /** @default {{}} on insert, unchanged on update */
  occupiedSlots?: ResourceSlots;
  /** @default {"x86_64"} */
  architecture?: string;
  images?: Json[];
  version?: string;
  computePlugins?: Record<string, Json>;
  /** @default {true} on insert, unchanged on update */
  schedulable?: boolean;
}

/** Filters of {@link AgentRepo.list}. */
export interface AgentFilter {
  scalingGroup?: string;
  status?: AgentStatus;
}

function toAgent(r: Row): Agent {
  return {
    id: String(r.id),
    addr: String(r.addr),
    region: String(r.region),
    scalingGroup: String(r.scaling_group),
    status: r.status as AgentStatus,
    schedulable: Boolean(r.schedulable),
    resourceSlots: r.resource_slots as ResourceSlots,
    availableSlots: r.available_slots as ResourceSlots,
    occupiedSlots: r.occupied_slots as ResourceSlots,
    architecture: String(r.architecture),
    images: r.images as Json[],
    version: String(r.version),
    computePlugins: r.compute_plugins as Record<string, Json>,
    firstContact: r.first_contact as Date,
    lastSeen: r.last_seen as Date,
    lostAt: dateOrNull(r.lost_at),
    statusInfo: r.status_info == null ? null : String(r.status_info),
    drain: r.drained_by == null ? null : {
      by: r.drained_by as AgentDrainedBy,
      reason: String(r.drain_reason ?? ""),
      since: (r.drain_started_at as Date | null) ?? new Date(0),
    },
  };
}

/** Reads and writes `agents`. */
export class AgentRepo {
  constructor(private readonly sql: postgres.Sql) {}

  /**
   * Registers an agent or refreshes a known one. A returning agent is ALIVE
   * again (lost_at cleared); first_contact is kept.
   */
  async upsert(a: AgentInput): Promise<Agent> {
    const occupied = a.occupiedSlots === undefined
      ? null
      : json(a.occupiedSlots);
    const [row] = await this.sql`
      insert into agents as a (id, addr, region, scaling_group, status, schedulable, resource_slots,
                               available_slots, occupied_slots, architecture, images, version, compute_plugins)
      values (${a.id}, ${a.addr}, ${a.region ?? "local"}, ${
      a.scalingGroup ?? "default"
    }, 'ALIVE',
              coalesce(${a.schedulable ?? null}::boolean, true), ${
      json(a.resourceSlots)
    }::text::jsonb,
              ${
      json(a.availableSlots ?? a.resourceSlots)
    }::text::jsonb, coalesce(${occupied}::text::jsonb, '{}'::jsonb),
              ${a.architecture ?? "x86_64"}, ${
      json(a.images ?? [])
    }::text::jsonb, ${a.version ?? ""},
              ${json(a.computePlugins ?? {})}::text::jsonb)
      on conflict (id) do update set
        addr = excluded.addr, region = excluded.region, scaling_group = excluded.scaling_group,
        status = 'ALIVE', lost_at = null, last_seen = now(),
        schedulable = coalesce(${
      a.schedulable ?? null
    }::boolean, a.schedulable),
        resource_slots = excluded.resource_slots, available_slots = excluded.available_slots,
        occupied_slots = coalesce(${occupied}::text::jsonb, a.occupied_slots),
        architecture = excluded.architecture, images = excluded.images, version = excluded.version,
        compute_plugins = excluded.compute_plugins
      returning *`;
    return toAgent(row);
  }

  /** The agent, or null. */
  async get(id: string): Promise<Agent | null> {
    const [row] = await this.sql`select * from agents where id = ${id}`;
    return row ? toAgent(row) : null;
  }

  /** Agents, optionally of one scaling group and/or status, by id. */
  async list(filter: AgentFilter = {}): Promise<Agent[]> {
    const sql = this.sql;
    const rows = await sql`
      select * from agents where true
      ${
      filter.scalingGroup
        ? sql`and scaling_group = ${filter.scalingGroup}`
        : sql``
    }
      ${filter.status ? sql`and status = ${filter.status}` : sql``}
      order by id`;
    return rows.map(toAgent);
  }

  /** Marks an agent LOST (failure detector fired); null if unknown. */
  async markLost(id: string): Promise<Agent | null> {
    const [row] = await this.sql`
      update agents set status = 'LOST', lost_at = coalesce(lost_at, now())
      where id = ${id} returning *`;
    return row ? toAgent(row) : null;
  }

  /**
   * Sets the status and, when given, its reason (`statusInfo`; undefined
   * keeps the stored one). LOST stamps lost_at, ALIVE clears it. Null if
   * the agent is unknown.
   */
  async setStatus(
    id: string,
    status: AgentStatus,
    statusInfo?: string | null,
  ): Promise<Agent | null> {
    const keep = statusInfo === undefined;
    const [row] = await this.sql`
      update agents set status = ${status},
        status_info = case when ${keep}::boolean then status_info else ${
      statusInfo ?? null
    }::text end,
        lost_at = case ${status}::text when 'LOST' then coalesce(lost_at, now())
                                       when 'ALIVE' then null else lost_at end
      where id = ${id} returning *`;
    return row ? toAgent(row) : null;
  }

  /**
   * Records the drain in force (who, why, since when), or clears it
   * (`null`); `schedulable` follows. Null if the agent is unknown.
   */
  async setDrain(
    id: string,
    drain: AgentDrain | null,
  ): Promise<Agent | null> {
    const [row] = await this.sql`
      update agents set schedulable = ${drain === null},
        drained_by = ${drain?.by ?? null}, drain_reason = ${
      drain?.reason ?? null
    },
        drain_started_at = ${drain?.since ?? null}
      where id = ${id} returning *`;
    return row ? toAgent(row) : null;
  }

  /** Whether the scheduler may place new sessions on the agent; null if unknown. */
  async setSchedulable(
    id: string,
    schedulable: boolean,
  ): Promise<Agent | null> {
    const [row] = await this
      .sql`update agents set schedulable = ${schedulable} where id = ${id} returning *`;
    return row ? toAgent(row) : null;
  }

  /** Records a heartbeat: last_seen = now and, if given, fresh slot figures. */
  async heartbeat(
    id: string,
    slots: { availableSlots?: ResourceSlots; occupiedSlots?: ResourceSlots } =
      {},
  ): Promise<Agent | null> {
    const avail = slots.availableSlots === undefined
      ? null
      : json(slots.availableSlots);
    const occ = slots.occupiedSlots === undefined
      ? null
      : json(slots.occupiedSlots);
    const [row] = await this.sql`
      update agents set last_seen = now(),
        available_slots = coalesce(${avail}::text::jsonb, available_slots),
        occupied_slots = coalesce(${occ}::text::jsonb, occupied_slots)
      where id = ${id} returning *`;
    return row ? toAgent(row) : null;
  }
}
