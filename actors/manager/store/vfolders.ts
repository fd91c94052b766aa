/**
 * Virtual folders: persistent storage a keypair mounts into sessions.
 *
 * @module
 */
import type postgres from "postgres";
import { AlreadyExistsError } from "./errors.ts";
import type { VFolder, VFolderPermission } from "./types.ts";
import { isUniqueViolation, key, numOrNull, type Row } from "./_row.ts";

/** Fields of {@link VFolderRepo.create}. */
export interface VFolderInput {
  /** @default {crypto.randomUUID()} */
  id?: string;
  name: string;
  accessKey: string;
  /** @default {"local"} */
  host?: string;
  /** @default {"rw"} */
  permission?: VFolderPermission;
  quota?: number | null;
}

function toVFolder(r: Row): VFolder {
  return {
    id: String(r.id),
    name: String(r.name),
    host: String(r.host),
    accessKey: key(r.access_key),
    permission: r.permission as VFolderPermission,
    quota: numOrNull(r.quota),
    createdAt: r.created_at as Date,
  };
}

/** Reads and writes `vfolders`. */
export class VFolderRepo {
  constructor(private readonly sql: postgres.Sql) {}

  /** Creates a folder; {@link AlreadyExistsError} when the keypair has one of that name. */
  async create(v: VFolderInput): Promise<VFolder> {
    try {
      const [row] = await this.sql`
        insert into vfolders (id, name, host, access_key, permission, quota)
        values (${v.id ?? crypto.randomUUID()}, ${v.name}, ${
        v.host ?? "local"
      }, ${v.accessKey},
                ${v.permission ?? "rw"}, ${v.quota ?? null})
        returning *`;
      return toVFolder(row);
    } catch (e) {
      if (isUniqueViolation(e)) throw new AlreadyExistsError("vfolder", v.name);
      throw e;
    }
  }

  /** The folder by id, or null. */
  async get(id: string): Promise<VFolder | null> {
    const [row] = await this.sql`select * from vfolders where id = ${id}`;
    return row ? toVFolder(row) : null;
  }

  /** The keypair's folder of that name, or null. */
  async getByName(accessKey: string, name: string): Promise<VFolder | null> {
    const [row] = await this
      .sql`select * from vfolders where access_key = ${accessKey} and name = ${name}`;
    return row ? toVFolder(row) : null;
  }

  /** The keypair's folders by name. */
  async list(accessKey: string): Promise<VFolder[]> {
    return (await this
      .sql`select * from vfolders where access_key = ${accessKey} order by name`)
      .map(toVFolder);
  }

  /** Number of folders of the keypair (for max_vfolder_count). */
  async count(accessKey: string): Promise<number> {
    const [row] = await this
      .sql`select count(*)::int as n from vfolders where access_key = ${accessKey}`;
    return Number(row.n);
  }

  /** Deletes a folder; false when there was none. */
  async delete(id: string): Promise<boolean> {
    return (await this.sql`delete from vfolders where id = ${id} returning id`)
      .length > 0;
  }
}
