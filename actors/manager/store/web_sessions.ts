/**
 * Signed-in dashboard sessions (`web_sessions`, migration 0005). Rows are
 * keyed by the hash of the cookie token, never the token itself; the caller
 * (actors/manager/web.ts) hashes. Times are compared with the database's
 * clock, so every manager sharing the store agrees on what has expired.
 *
 * @module
 */
import type postgres from "postgres";
import { key, type Row, strOrNull } from "./_row.ts";

/** A stored web session. */
export interface WebSessionRow {
  tokenHash: string;
  accessKey: string;
  csrfToken: string;
  userAgent: string | null;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  hardExpiresAt: Date;
}

/** Fields of {@link WebSessionRepo.insert}. */
export interface WebSessionInput {
  tokenHash: string;
  accessKey: string;
  csrfToken: string;
  userAgent?: string | null;
  /** Idle time after which an unused session ends, ms. */
  idleMs: number;
  /** Time after which the session ends however much it is used, ms. */
  maxAgeMs: number;
}

function toRow(r: Row): WebSessionRow {
  return {
    tokenHash: String(r.token_hash),
    accessKey: key(r.access_key),
    csrfToken: String(r.csrf_token),
    userAgent: strOrNull(r.user_agent),
    createdAt: r.created_at as Date,
    lastSeenAt: r.last_seen_at as Date,
    expiresAt: r.expires_at as Date,
    hardExpiresAt: r.hard_expires_at as Date,
  };
}

/** Reads and writes `web_sessions`. */
export class WebSessionRepo {
  constructor(private readonly sql: postgres.Sql) {}

  /** Stores a new session; answers it. */
  async insert(s: WebSessionInput): Promise<WebSessionRow> {
    const [row] = await this.sql`
      insert into web_sessions (token_hash, access_key, csrf_token, user_agent,
                                expires_at, hard_expires_at)
      values (${s.tokenHash}, ${s.accessKey}, ${s.csrfToken}, ${
      s.userAgent ?? null
    },
              now() + least(${s.idleMs}::bigint, ${s.maxAgeMs}::bigint) * interval '1 millisecond',
              now() + ${s.maxAgeMs}::bigint * interval '1 millisecond')
      returning *`;
    return toRow(row);
  }

  /**
   * The unexpired session of `tokenHash`, its idle expiry pushed forward by
   * `idleMs` (never past its hard expiry), or null when there is none.
   */
  async use(tokenHash: string, idleMs: number): Promise<WebSessionRow | null> {
    const [row] = await this.sql`
      update web_sessions
      set last_seen_at = now(),
          expires_at = least(hard_expires_at, now() + ${idleMs}::bigint * interval '1 millisecond')
      where token_hash = ${tokenHash} and expires_at > now()
      returning *`;
    return row ? toRow(row) : null;
  }

  /** Deletes a session; false when there was none. */
  async delete(tokenHash: string): Promise<boolean> {
    const rows = await this.sql`
      delete from web_sessions where token_hash = ${tokenHash} returning token_hash`;
    return rows.length > 0;
  }

  /** Deletes every session of a keypair; answers how many. */
  async deleteForKeypair(accessKey: string): Promise<number> {
    const rows = await this.sql`
      delete from web_sessions where access_key = ${accessKey} returning token_hash`;
    return rows.length;
  }

  /** Deletes expired sessions; answers how many. */
  async deleteExpired(): Promise<number> {
    const rows = await this.sql`
      delete from web_sessions where expires_at <= now() returning token_hash`;
    return rows.length;
  }
}
