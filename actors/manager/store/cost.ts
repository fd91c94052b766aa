/**
 * What cost needs from Postgres (migrations/0004_cost.sql): the price table
 * of each scaling group, each keypair's cost settings, and the running and
 * paused phases of sessions (written by a trigger on `session_events`, so
 * every status change is metered in its own transaction). Values come back
 * as plain data; pricing them is policies/cost/.
 *
 * @module
 */
import type postgres from "postgres";
import { json, key, num, numOrNull, type Row, strOrNull } from "./_row.ts";
import type { Json, ResourceSlots } from "./types.ts";
import type { SessionStatus } from "../lifecycle.ts";

/** A stored price table (as PriceTableSchema produced it). */
export interface StoredPrices {
  cpuCoreHour: number;
  memGiBHour: number;
  deviceHour: Record<string, number>;
}

/** A keypair's stored cost settings (the row's columns). */
export interface StoredCostSettings {
  dailyCostLimit: number | null;
  action: "pause" | "terminate";
  warnRatio: number;
  maintain: boolean;
  idlePauseSeconds: number;
  timeZone: string;
}

/** One running or paused interval; `to` absent while open. */
export interface StoredPhase {
  state: "running" | "paused";
  from: number;
  to?: number;
}

/** A session with its phases overlapping a range, for pricing. */
export interface PhasedSession {
  sessionId: string;
  accessKey: string;
  name: string;
  status: SessionStatus;
  scalingGroup: string;
  /** The slots it holds (requested = occupied once RUNNING). */
  slots: ResourceSlots;
  /** Its group's prices; null when the group is not priced. */
  prices: StoredPrices | null;
  createdAt: number;
  terminatedAt: number | null;
  pausedMs: number;
  /** In start order. */
  phases: StoredPhase[];
}

/** Filter of {@link CostRepo.phases}. */
export interface PhaseQuery {
  /** One keypair; all when absent. */
  accessKey?: string;
  /** Range start (ms): phases ending before it are left out. */
  from: number;
  /** Range end (ms): phases starting at or after it are left out. */
  to: number;
}

function toPrices(v: unknown): StoredPrices | null {
  if (!v || typeof v !== "object") return null;
  const p = v as Partial<StoredPrices>;
  return {
    cpuCoreHour: num(p.cpuCoreHour ?? 0),
    memGiBHour: num(p.memGiBHour ?? 0),
    deviceHour: (p.deviceHour ?? {}) as Record<string, number>,
  };
}

function toSettings(r: Row): StoredCostSettings {
  return {
    dailyCostLimit: numOrNull(r.daily_cost_limit),
    action: r.action === "terminate" ? "terminate" : "pause",
    warnRatio: num(r.warn_ratio),
    maintain: Boolean(r.maintain),
    idlePauseSeconds: num(r.idle_pause_seconds),
    timeZone: String(r.time_zone),
  };
}

/** Reads and writes prices, cost settings and session phases. */
export class CostRepo {
  constructor(private readonly sql: postgres.Sql) {}

  /**
   * The group's prices: a table, null when not priced, undefined when
   * there is no such group.
   */
  async prices(group: string): Promise<StoredPrices | null | undefined> {
    const [row] = await this
      .sql`select prices from scaling_groups where name = ${group}`;
    return row ? toPrices(row.prices) : undefined;
  }

  /** Every group by name with its prices (null: not priced). */
  async allPrices(): Promise<Record<string, StoredPrices | null>> {
    const rows = await this
      .sql`select name, prices from scaling_groups order by name`;
    return Object.fromEntries(
      rows.map((r) => [String(r.name), toPrices(r.prices)]),
    );
  }

  /**
   * Sets (or with null clears) the group's prices; false when there is no
   * such group.
   */
  async setPrices(
    group: string,
    prices: StoredPrices | null,
  ): Promise<boolean> {
    const value = prices === null ? null : json(prices);
    const rows = await this.sql`
      update scaling_groups set prices = ${value}::text::jsonb
      where name = ${group} returning name`;
    return rows.length > 0;
  }

  /** The keypair's stored settings, or null when it never set any. */
  async settings(accessKey: string): Promise<StoredCostSettings | null> {
    const [row] = await this
      .sql`select * from keypair_cost_settings where access_key = ${accessKey}`;
    return row ? toSettings(row) : null;
  }

  /** Stores the keypair's settings (whole). */
  async putSettings(
    accessKey: string,
    s: StoredCostSettings,
  ): Promise<StoredCostSettings> {
    const [row] = await this.sql`
      insert into keypair_cost_settings as k (access_key, daily_cost_limit, action, warn_ratio,
                                              maintain, idle_pause_seconds, time_zone)
      values (${accessKey}, ${s.dailyCostLimit}, ${s.action}, ${s.warnRatio},
              ${s.maintain}, ${s.idlePauseSeconds}, ${s.timeZone})
      on conflict (access_key) do update set
        daily_cost_limit = excluded.daily_cost_limit, action = excluded.action,
        warn_ratio = excluded.warn_ratio, maintain = excluded.maintain,
        idle_pause_seconds = excluded.idle_pause_seconds, time_zone = excluded.time_zone,
        updated_at = now()
      returning *`;
    return toSettings(row);
  }

  /**
   * Sessions with a phase overlapping `[from, to)`, each with all its
   * phases in the range, newest session first.
   */
  async phases(q: PhaseQuery): Promise<PhasedSession[]> {
    const sql = this.sql;
    // Years 1 to 9999 ("forever" may arrive as a huge number).
    const clamp = (t: number) =>
      new Date(Math.max(-62135596800000, Math.min(253402300799999, t)));
    const from = clamp(q.from), to = clamp(q.to);
    const rows = await sql`
      select p.session_id, p.state, p.started_at, p.ended_at,
             s.access_key, s.name, s.status, s.scaling_group, s.requested_slots,
             s.created_at, s.terminated_at, s.paused_ms, g.prices
      from session_phases p
      join sessions s on s.id = p.session_id
      left join scaling_groups g on g.name = s.scaling_group
      where (p.ended_at is null or p.ended_at > ${from}) and p.started_at < ${to}
        ${
      q.accessKey === undefined ? sql`` : sql`and p.access_key = ${q.accessKey}`
    }
      order by s.created_at desc, s.id, p.started_at, p.id`;
    const out = new Map<string, PhasedSession>();
    for (const r of rows) {
      const id = String(r.session_id);
      let s = out.get(id);
      if (!s) {
        s = {
          sessionId: id,
          accessKey: key(r.access_key),
          name: String(r.name),
          status: r.status as SessionStatus,
          scalingGroup: String(r.scaling_group),
          slots: (r.requested_slots ?? {}) as ResourceSlots,
          prices: toPrices(r.prices as Json),
          createdAt: (r.created_at as Date).getTime(),
          terminatedAt: (r.terminated_at as Date | null)?.getTime() ?? null,
          pausedMs: num(r.paused_ms),
          phases: [],
        };
        out.set(id, s);
      }
      const phase: StoredPhase = {
        state: strOrNull(r.state) === "paused" ? "paused" : "running",
        from: (r.started_at as Date).getTime(),
      };
      if (r.ended_at) phase.to = (r.ended_at as Date).getTime();
      s.phases.push(phase);
    }
    return [...out.values()];
  }
}
