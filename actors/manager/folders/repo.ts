/**
 * Folder rows (`vfolders`, with 0003_vfolders.sql's columns) and the
 * folder limits of a keypair's resource policy. The bytes of a folder live
 * on its storage host under the row's id; the row is the manager's record.
 *
 * @module
 */

import type postgres from "postgres";
import {
  dateOrNull,
  isUniqueViolation,
  key,
  numOrNull,
  type Row,
} from "../store/_row.ts";

/** Permission of a folder: read-only, read-write, read-write-delete. */
export type FolderPermission = "ro" | "rw" | "wd";
/** What a folder is for (Backend.AI's usage modes). */
export type UsageMode = "general" | "data" | "model";

/** One folder as the manager records it. */
export interface FolderRow {
  id: string;
  name: string;
  host: string;
  accessKey: string;
  /** The owning keypair's user id. */
  userId: string;
  permission: FolderPermission;
  /** Bytes; null = no limit of its own. */
  quota: number | null;
  usageMode: UsageMode;
  cloneable: boolean;
  status: "creating" | "ready" | "deleting";
  usedBytes: number | null;
  usageAt: Date | null;
  lastUsed: Date | null;
  createdAt: Date;
}

/** The folder limits of a keypair's policy (0 = unlimited). */
export interface FolderLimits {
  userId: string;
  policy: string;
  maxCount: number;
  maxSize: number;
}

/** A folder name taken by the keypair. */
export class FolderNameTaken extends Error {
  override name = "FolderNameTaken";
}

function toRow(r: Row): FolderRow {
  return {
    id: String(r.id),
    name: String(r.name),
    host: String(r.host),
    accessKey: key(r.access_key),
    userId: String(r.user_id ?? ""),
    permission: r.permission as FolderPermission,
    quota: numOrNull(r.quota),
    usageMode: (r.usage_mode ?? "general") as UsageMode,
    cloneable: Boolean(r.cloneable),
    status: (r.status ?? "ready") as FolderRow["status"],
    usedBytes: numOrNull(r.used_bytes),
    usageAt: dateOrNull(r.usage_at),
    lastUsed: dateOrNull(r.last_used),
    createdAt: r.created_at as Date,
  };
}

/** Admin listing filter. */
export interface FolderFilter {
  accessKey?: string;
  host?: string;
  limit: number;
  offset: number;
}

export class FolderRepo {
  constructor(private readonly sql: postgres.Sql) {}

  /** Inserts a folder in `creating`; {@link FolderNameTaken} when the keypair has the name. */
  async insert(v: {
    id: string;
    name: string;
    host: string;
    accessKey: string;
    permission: FolderPermission;
    quota: number | null;
    usageMode: UsageMode;
    cloneable: boolean;
  }): Promise<FolderRow> {
    try {
      const [row] = await this.sql`
        insert into vfolders (id, name, host, access_key, permission, quota,
                              usage_mode, cloneable, status)
        values (${v.id}, ${v.name}, ${v.host}, ${v.accessKey}, ${v.permission},
                ${v.quota}, ${v.usageMode}, ${v.cloneable}, 'creating')
        returning *, (select user_id from keypairs where access_key = ${v.accessKey}) as user_id`;
      return toRow(row);
    } catch (e) {
      if (isUniqueViolation(e)) throw new FolderNameTaken(v.name);
      throw e;
    }
  }

  async setStatus(id: string, status: FolderRow["status"]): Promise<void> {
    await this.sql`update vfolders set status = ${status} where id = ${id}`;
  }

  /** The keypair's folder of that name (not one being deleted), or null. */
  async byName(accessKey: string, name: string): Promise<FolderRow | null> {
    const [row] = await this.sql`
      select v.*, k.user_id from vfolders v join keypairs k using (access_key)
      where v.access_key = ${accessKey} and v.name = ${name}
        and v.status <> 'deleting'`;
    return row ? toRow(row) : null;
  }

  /** The keypair's folder with that id (dashes optional), or null. */
  async byId(accessKey: string, id: string): Promise<FolderRow | null> {
    const hex = id.replaceAll("-", "").toLowerCase();
    if (!/^[0-9a-f]{32}$/.test(hex)) return null;
    const uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${
      hex.slice(16, 20)
    }-${hex.slice(20)}`;
    const [row] = await this.sql`
      select v.*, k.user_id from vfolders v join keypairs k using (access_key)
      where v.access_key = ${accessKey} and v.id = ${uuid}
        and v.status <> 'deleting'`;
    return row ? toRow(row) : null;
  }

  /** The keypair's folders by name. */
  async list(accessKey: string): Promise<FolderRow[]> {
    return (await this.sql`
      select v.*, k.user_id from vfolders v join keypairs k using (access_key)
      where v.access_key = ${accessKey} and v.status <> 'deleting'
      order by v.name`).map(toRow);
  }

  /** Folders the keypair holds (for max_vfolder_count); deleting ones count until gone. */
  async count(accessKey: string): Promise<number> {
    const [row] = await this.sql`
      select count(*)::int as n from vfolders where access_key = ${accessKey}`;
    return Number(row.n);
  }

  /** Renames; {@link FolderNameTaken} when the new name is the keypair's already. */
  async rename(id: string, name: string): Promise<void> {
    try {
      await this.sql`update vfolders set name = ${name} where id = ${id}`;
    } catch (e) {
      if (isUniqueViolation(e)) throw new FolderNameTaken(name);
      throw e;
    }
  }

  async update(
    id: string,
    patch: { permission?: FolderPermission; cloneable?: boolean },
  ): Promise<void> {
    if (patch.permission !== undefined) {
      await this
        .sql`update vfolders set permission = ${patch.permission} where id = ${id}`;
    }
    if (patch.cloneable !== undefined) {
      await this
        .sql`update vfolders set cloneable = ${patch.cloneable} where id = ${id}`;
    }
  }

  async delete(id: string): Promise<void> {
    await this.sql`delete from vfolders where id = ${id}`;
  }

  /** Records usage reported by the storage node. */
  async setUsage(id: string, usedBytes: number): Promise<void> {
    await this.sql`
      update vfolders set used_bytes = ${usedBytes}, usage_at = now()
      where id = ${id}`;
  }

  /** Marks folders as just mounted by a session. */
  async touch(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this
      .sql`update vfolders set last_used = now() where id = any(${ids}::uuid[])`;
  }

  /** Folders of one host (for usage refreshes). */
  async onHost(host: string): Promise<FolderRow[]> {
    return (await this.sql`
      select v.*, k.user_id from vfolders v join keypairs k using (access_key)
      where v.host = ${host} and v.status = 'ready'`).map(toRow);
  }

  /** Folders across keypairs (admin), newest first. */
  async listAll(
    f: FolderFilter,
  ): Promise<{ rows: FolderRow[]; total: number }> {
    const ak = f.accessKey ?? null;
    const host = f.host ?? null;
    const rows = await this.sql`
      select v.*, k.user_id, count(*) over () as total
      from vfolders v join keypairs k using (access_key)
      where (${ak}::text is null or v.access_key = ${ak})
        and (${host}::text is null or v.host = ${host})
      order by v.created_at desc, v.id
      limit ${f.limit} offset ${f.offset}`;
    return {
      rows: rows.map(toRow),
      total: rows.length ? Number(rows[0].total) : 0,
    };
  }

  /** The folder limits of the keypair's policy, or null for an unknown keypair. */
  async limits(accessKey: string): Promise<FolderLimits | null> {
    const [row] = await this.sql`
      select k.user_id, p.name, p.max_vfolder_count, p.max_vfolder_size
      from keypairs k join resource_policies p on p.name = k.resource_policy
      where k.access_key = ${accessKey}`;
    if (!row) return null;
    return {
      userId: String(row.user_id),
      policy: String(row.name),
      maxCount: Number(row.max_vfolder_count ?? 0),
      maxSize: Number(row.max_vfolder_size ?? 0),
    };
  }
}
