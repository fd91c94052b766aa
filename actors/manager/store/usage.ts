/**
 * Usage records: metered consumption per kernel, the basis of billing and of
 * the daily cost limit.
 *
 * @module
 */
import type postgres from "postgres";
import type { UsageRecord, UsageSum } from "./types.ts";
import { key, num, type Row, strOrNull } from "./_row.ts";

/** Fields of {@link UsageRepo.record}; counters default to 0. */
export interface UsageInput {
  kernelId?: string | null;
  sessionId: string;
  accessKey: string;
  cpuMs?: number;
  memPeakKib?: number;
  memKibMs?: number;
  ioRead?: number;
  ioWrite?: number;
  gpuMs?: number;
  startedAt: Date;
  endedAt: Date;
  cost?: number;
}

function toUsage(r: Row): UsageRecord {
  return {
    id: num(r.id),
    kernelId: strOrNull(r.kernel_id),
    sessionId: String(r.session_id),
    accessKey: key(r.access_key),
    cpuMs: num(r.cpu_ms),
    memPeakKib: num(r.mem_peak_kib),
    memKibMs: num(r.mem_kib_ms),
    ioRead: num(r.io_read),
    ioWrite: num(r.io_write),
    gpuMs: num(r.gpu_ms),
    startedAt: r.started_at as Date,
    endedAt: r.ended_at as Date,
    cost: num(r.cost),
  };
}

function toSum(r: Row): UsageSum {
  return {
    records: num(r.records),
    cpuMs: num(r.cpu_ms),
    memKibMs: num(r.mem_kib_ms),
    ioRead: num(r.io_read),
    ioWrite: num(r.io_write),
    gpuMs: num(r.gpu_ms),
    cost: num(r.cost),
  };
}

/** "YYYY-MM-DD" of a UTC day, from a Date or passed through. */
function utcDay(day: Date | string): string {
  if (typeof day === "string") {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) {
      throw new RangeError(`not a YYYY-MM-DD day: ${day}`);
    }
    return day;
  }
  return day.toISOString().slice(0, 10);
}

/** Reads and writes `usage_records`. */
export class UsageRepo {
  constructor(private readonly sql: postgres.Sql) {}

  /** Appends one record. */
  async record(u: UsageInput): Promise<UsageRecord> {
    const [row] = await this.sql`
      insert into usage_records (kernel_id, session_id, access_key, cpu_ms, mem_peak_kib, mem_kib_ms,
                                 io_read, io_write, gpu_ms, started_at, ended_at, cost)
      values (${u.kernelId ?? null}, ${u.sessionId}, ${u.accessKey}, ${
      u.cpuMs ?? 0
    }, ${u.memPeakKib ?? 0},
              ${u.memKibMs ?? 0}, ${u.ioRead ?? 0}, ${u.ioWrite ?? 0}, ${
      u.gpuMs ?? 0
    },
              ${u.startedAt}, ${u.endedAt}, ${u.cost ?? 0})
      returning *`;
    return toUsage(row);
  }

  /** Records of a session, in order. */
  async forSession(sessionId: string): Promise<UsageRecord[]> {
    return (await this
      .sql`select * from usage_records where session_id = ${sessionId} order by id`)
      .map(toUsage);
  }

  /** Sums of the records of `accessKey` that ended on the given UTC day. */
  async sumForDay(accessKey: string, day: Date | string): Promise<UsageSum> {
    const d = utcDay(day);
    const [row] = await this.sql`
      select count(*) as records, coalesce(sum(cpu_ms), 0) as cpu_ms, coalesce(sum(mem_kib_ms), 0) as mem_kib_ms,
             coalesce(sum(io_read), 0) as io_read, coalesce(sum(io_write), 0) as io_write,
             coalesce(sum(gpu_ms), 0) as gpu_ms, coalesce(sum(cost), 0) as cost
      from usage_records
      where access_key = ${accessKey}
        and ended_at >= (${d}::date)::timestamp at time zone 'UTC'
        and ended_at < (${d}::date + 1)::timestamp at time zone 'UTC'`;
    return toSum(row);
  }
}
