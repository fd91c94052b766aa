/**
 * Applies the numbered SQL files of `migrations/` (`0001_init.sql`, ...) to a
 * database and records each in `schema_migrations` (version, name, checksum,
 * applied_at).
 *
 * All pending migrations run in one transaction that first takes a
 * transaction-scoped advisory lock, so two managers starting together
 * serialise: the second sees the first's records and applies nothing. A
 * database that knows a version this code lacks is refused
 * ({@link SchemaTooNewError}), and so is an applied migration whose file has
 * changed since ({@link MigrationChecksumError}).
 *
 * @module
 */

import type postgres from "postgres";
import {
  MigrationChecksumError,
  MigrationError,
  MigrationMissingError,
  SchemaTooNewError,
} from "./errors.ts";
import { fromFileUrl, join } from "./_path.ts";

/** One migration file. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
  /** Hex SHA-256 of the file's bytes. */
  checksum: string;
}

/** What {@link migrate} did. */
export interface MigrationResult {
  /** Migrations applied by this call, in order (empty when up to date). */
  applied: Migration[];
  /** Highest version recorded in the database afterwards. */
  version: number;
}

/** The repository's `migrations/` directory. */
export const DEFAULT_MIGRATIONS_DIR: string = fromFileUrl(
  new URL("../../../migrations/", import.meta.url),
);

/** Key of the advisory lock held while migrating (any constant bigint works). */
const LOCK_KEY = 0x6261_6964_6e6f; // "baidno"

const FILE_PATTERN = /^(\d{4,})_([A-Za-z0-9_-]+)\.sql$/;

/** Reads and checksums every `NNNN_name.sql` in `dir`, sorted by version. */
export async function loadMigrations(
  dir: string = DEFAULT_MIGRATIONS_DIR,
): Promise<Migration[]> {
  const migrations: Migration[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const match = entry.isFile ? FILE_PATTERN.exec(entry.name) : null;
    if (!match) continue;
    const bytes = await Deno.readFile(join(dir, entry.name));
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    migrations.push({
      version: Number(match[1]),
      name: match[2],
      sql: new TextDecoder().decode(bytes),
      checksum: digest.toHex(),
    });
  }
  migrations.sort((a, b) => a.version - b.version);
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i].version === migrations[i - 1].version) {
      throw new MigrationError(
        `two migration files share version ${migrations[i].version}`,
      );
    }
  }
  return migrations;
}

/**
 * Brings the database up to the latest migration. Idempotent; safe to run
 * from several processes at once. Throws a {@link MigrationError} subclass,
 * and changes nothing, when the database does not fit this code.
 */
export async function migrate(
  sql: postgres.Sql,
  migrations?: Migration[],
): Promise<MigrationResult> {
  const known = migrations ?? await loadMigrations();
  return await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${LOCK_KEY})`;
    await tx.unsafe(`
      create table if not exists schema_migrations (
        version    integer primary key,
        name       text not null,
        checksum   text not null,
        applied_at timestamptz not null default now()
      )`);
    const rows = await tx<
      { version: number; name: string; checksum: string }[]
    >`
      select version, name, checksum from schema_migrations order by version`;
    const latest = known.at(-1)?.version ?? 0;
    const byVersion = new Map(known.map((m) => [m.version, m]));
    const newest = rows.at(-1);
    if (newest && newest.version > latest) {
      throw new SchemaTooNewError(newest.version, latest);
    }
    for (const row of rows) {
      const file = byVersion.get(row.version);
      if (!file) throw new MigrationMissingError(row.version, row.name);
      if (file.checksum !== row.checksum) {
        throw new MigrationChecksumError(
          row.version,
          row.name,
          row.checksum,
          file.checksum,
        );
      }
    }
    const done = new Set(rows.map((r) => r.version));
    const applied: Migration[] = [];
    for (const m of known) {
      if (done.has(m.version)) continue;
      await tx.unsafe(m.sql);
      await tx`insert into schema_migrations (version, name, checksum)
               values (${m.version}, ${m.name}, ${m.checksum})`;
      applied.push(m);
    }
    return {
      applied,
      version: Math.max(newest?.version ?? 0, applied.at(-1)?.version ?? 0),
    };
  });
}
