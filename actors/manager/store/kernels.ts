/**
 * Kernels: the containers of a session, one row each.
 *
 * @module
 */
import type postgres from "postgres";
import type { Kernel, ResourceSlots } from "./types.ts";
import {
  dateOrNull,
  joinFragments,
  json,
  type Row,
  strOrNull,
} from "./_row.ts";

/** Fields of {@link KernelRepo.insert}. */
export interface KernelInput {
  /** @default {crypto.randomUUID()} */
  id?: string;
  sessionId: string;
  image: string;
  agentId?: string | null;
  containerId?: string | null;
  /** @default {"PENDING"} */
  status?: string;
  occupiedSlots?: ResourceSlots;
}

/** Fields {@link KernelRepo.update} may change; omitted ones stay. */
export interface KernelPatch {
  status?: string;
  agentId?: string | null;
  containerId?: string | null;
  occupiedSlots?: ResourceSlots;
  terminatedAt?: Date | null;
}

function toKernel(r: Row): Kernel {
  return {
    id: String(r.id),
    sessionId: String(r.session_id),
    agentId: strOrNull(r.agent_id),
    containerId: strOrNull(r.container_id),
    image: String(r.image),
    status: String(r.status),
    occupiedSlots: r.occupied_slots as ResourceSlots,
    createdAt: r.created_at as Date,
    terminatedAt: dateOrNull(r.terminated_at),
  };
}

/** Reads and writes `kernels`. */
export class KernelRepo {
  constructor(private readonly sql: postgres.Sql) {}

  /** Adds a kernel to a session. */
  async insert(k: KernelInput): Promise<Kernel> {
    const [row] = await this.sql`
      insert into kernels (id, session_id, agent_id, container_id, image, status, occupied_slots)
      values (${k.id ?? crypto.randomUUID()}, ${k.sessionId}, ${
      k.agentId ?? null
    }, ${k.containerId ?? null},
              ${k.image}, ${k.status ?? "PENDING"}, ${
      json(k.occupiedSlots ?? {})
    }::text::jsonb)
      returning *`;
    return toKernel(row);
  }

  /** The kernel, or null. */
  async get(id: string): Promise<Kernel | null> {
    const [row] = await this.sql`select * from kernels where id = ${id}`;
    return row ? toKernel(row) : null;
  }

  /** Kernels of a session, oldest first. */
  async listBySession(sessionId: string): Promise<Kernel[]> {
    return (await this
      .sql`select * from kernels where session_id = ${sessionId} order by created_at, id`)
      .map(toKernel);
  }

  /** Kernels placed on an agent that have not terminated. */
  async listLiveOnAgent(agentId: string): Promise<Kernel[]> {
    return (await this.sql`
      select * from kernels where agent_id = ${agentId} and terminated_at is null order by created_at`)
      .map(toKernel);
  }

  /** Changes the given fields; null if the kernel is unknown. */
  async update(id: string, p: KernelPatch): Promise<Kernel | null> {
    const sql = this.sql;
    const sets = [
      p.status !== undefined ? sql`status = ${p.status}` : null,
      p.agentId !== undefined ? sql`agent_id = ${p.agentId}` : null,
      p.containerId !== undefined ? sql`container_id = ${p.containerId}` : null,
      p.occupiedSlots !== undefined
        ? sql`occupied_slots = ${json(p.occupiedSlots)}::text::jsonb`
        : null,
      p.terminatedAt !== undefined
        ? sql`terminated_at = ${p.terminatedAt}`
        : null,
    ];
    const assignments = joinFragments(sql, sets);
    if (assignments === null) return await this.get(id);
    const [row] =
      await sql`update kernels set ${assignments} where id = ${id} returning *`;
    return row ? toKernel(row) : null;
  }
}
