/**
 * Helpers to turn raw rows into typed values. Internal.
 *
 * @module
 */
import postgres from "postgres";

/** A raw row as the driver returns it. */
export type Row = Record<string, unknown>;

/** bigint / numeric columns arrive as strings; null stays null. */
export function num(v: unknown): number {
  return typeof v === "number" ? v : Number(v);
}

/** Like {@link num} but keeps null. */
export function numOrNull(v: unknown): number | null {
  return v === null || v === undefined ? null : num(v);
}

/** char(n) columns are blank-padded. */
export function key(v: unknown): string {
  return String(v).trimEnd();
}

/** Nullable text. */
export function strOrNull(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}

/** Nullable timestamp. */
export function dateOrNull(v: unknown): Date | null {
  return v === null || v === undefined ? null : (v as Date);
}

/**
 * A jsonb parameter: pass the text and cast with `::text::jsonb` in the query
 * (a bare `::jsonb` makes the driver JSON-encode the string a second time).
 */
export function json(value: unknown): string {
  return JSON.stringify(value ?? null);
}

/** Whether `e` is a Postgres unique-violation, optionally of one constraint. */
export function isUniqueViolation(e: unknown, constraint?: string): boolean {
  return e instanceof postgres.PostgresError && e.code === "23505" &&
    (constraint === undefined || e.constraint_name === constraint);
}

/** Whether `e` is a Postgres foreign-key violation. */
export function isForeignKeyViolation(e: unknown): boolean {
  return e instanceof postgres.PostgresError && e.code === "23503";
}

/** Matches a canonical UUID (the form ids are stored and compared in). */
export const UUID_RE =
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Escapes LIKE wildcards so user input matches literally (escape char `\`). */
export function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, "\\$&");
}

/**
 * Joins the non-null SQL fragments with `sep` (", " for SET lists, "and"
 * for conditions); null when every fragment is null.
 */
export function joinFragments(
  sql: postgres.Sql | postgres.TransactionSql,
  fragments: (postgres.PendingQuery<postgres.Row[]> | null)[],
  sep: "," | "and" = ",",
): postgres.PendingQuery<postgres.Row[]> | null {
  let out: postgres.PendingQuery<postgres.Row[]> | null = null;
  for (const f of fragments) {
    if (f === null) continue;
    out = out === null
      ? f
      : sep === ","
      ? sql`${out}, ${f}`
      : sql`${out} and ${f}`;
  }
  return out;
}
