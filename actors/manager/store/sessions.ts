/**
 * Sessions and their status history. Every status change goes through
 * {@link SessionRepo.transition}: one transaction that checks the
 * allowed-transition table (../lifecycle.ts), updates the row and appends a
 * `session_events` row, so the history is complete and never contradicts the
 * current status.
 *
 * @module
 */
import type postgres from "postgres";
import {
  IllegalTransitionError,
  NotFoundError,
  SessionNameConflictError,
} from "./errors.ts";
import {
  canTransition,
  ENDED_STATUSES,
  isLive,
  SESSION_STATUSES,
  type SessionStatus,
} from "../lifecycle.ts";
import type {
  Json,
  ResourceSlots,
  Session,
  SessionEvent,
  SessionType,
} from "./types.ts";
import {
  dateOrNull,
  escapeLike,
  isUniqueViolation,
  joinFragments,
  json,
  key,
  num,
  type Row,
  strOrNull,
  UUID_RE,
} from "./_row.ts";

/** Fields of {@link SessionRepo.insert}. */
export interface SessionInput {
  /** @default {crypto.randomUUID()} */
  id?: string;
  name: string;
  accessKey: string;
  image: string;
  /** @default {"interactive"} */
  type?: SessionType;
  /** @default {"default"} */
  scalingGroup?: string;
  requestedSlots?: ResourceSlots;
  config?: Record<string, Json>;
  tag?: string | null;
  /** Scale-in protection: the node hosting it is drained, not stopped. */
  protected?: boolean;
  /** Reason stored with the first (PENDING) event. */
  reason?: string;
}

/** Fields a transition may set together with the status. */
export interface TransitionPatch {
  agentId?: string | null;
  occupiedSlots?: ResourceSlots;
}

/** Filters of {@link SessionRepo.list}; all optional, combined with AND. */
export interface SessionFilter {
  accessKey?: string;
  status?: SessionStatus[];
  scalingGroup?: string;
  agentId?: string;
}

/** Options of {@link SessionRepo.list}. */
export interface SessionListOptions {
  filters?: SessionFilter;
  /** @default {100} */
  limit?: number;
  /** @default {0} */
  offset?: number;
}

/** Options of {@link SessionRepo.findByRef}. */
export interface FindByRefOptions {
  /** Also match sessions that ended (only `GET /session/{ref}` does). @default {false} */
  includeEnded?: boolean;
}

/** Most matches {@link SessionRepo.findByRef} returns; callers only need "one" or "more". */
const MAX_REF_MATCHES = 10;

const ENDED = ENDED_STATUSES as SessionStatus[];

function toSession(r: Row): Session {
  return {
    id: String(r.id),
    name: String(r.name),
    accessKey: key(r.access_key),
    image: String(r.image),
    type: r.type as SessionType,
    status: r.status as SessionStatus,
    statusInfo: strOrNull(r.status_info),
    occupiedSlots: r.occupied_slots as ResourceSlots,
    requestedSlots: r.requested_slots as ResourceSlots,
    agentId: strOrNull(r.agent_id),
    scalingGroup: String(r.scaling_group),
    config: r.config as Record<string, Json>,
    tag: strOrNull(r.tag),
    protected: Boolean(r.protected),
    createdAt: r.created_at as Date,
    terminatedAt: dateOrNull(r.terminated_at),
    numQueries: num(r.num_queries),
    lastStat: (r.last_stat ?? null) as Json | null,
    lastActivity: r.last_activity as Date,
  };
}

function toEvent(r: Row): SessionEvent {
  return {
    id: num(r.id),
    sessionId: String(r.session_id),
    status: r.status as SessionStatus,
    reason: strOrNull(r.reason),
    at: r.at as Date,
  };
}

/** Reads and writes `sessions` and `session_events`. */
export class SessionRepo {
  constructor(private readonly sql: postgres.Sql) {}

  /**
   * Creates a PENDING session and its first event. Throws
   * {@link SessionNameConflictError} (with the existing session's id) when
   * the access key already has a live session of that name.
   */
  async insert(s: SessionInput): Promise<Session> {
    const id = s.id ?? crypto.randomUUID();
    try {
      return await this.sql.begin(async (tx) => {
        const [row] = await tx`
          insert into sessions (id, name, access_key, image, type, status, scaling_group,
                                requested_slots, config, tag, protected)
          values (${id}, ${s.name}, ${s.accessKey}, ${s.image}, ${
          s.type ?? "interactive"
        }, 'PENDING',
                  ${s.scalingGroup ?? "default"}, ${
          json(s.requestedSlots ?? {})
        }::text::jsonb,
                  ${json(s.config ?? {})}::text::jsonb, ${s.tag ?? null}, ${
          s.protected ?? false
        })
          returning *`;
        await tx`insert into session_events (session_id, status, reason)
                 values (${id}, 'PENDING', ${s.reason ?? null})`;
        return toSession(row);
      });
    } catch (e) {
      if (isUniqueViolation(e, "sessions_live_name")) {
        const [existing] = await this.sql`
          select id from sessions
          where access_key = ${s.accessKey} and name = ${s.name} and status <> all(${ENDED})`;
        throw new SessionNameConflictError(
          s.accessKey,
          s.name,
          existing ? String(existing.id) : null,
        );
      }
      throw e;
    }
  }

  /**
   * Moves a session to `to`, recording `reason` as its status info and in a
   * new event, in one transaction (the row is locked, so concurrent
   * transitions serialise). Reaching an ended status stamps terminated_at.
   * Throws {@link NotFoundError} or {@link IllegalTransitionError}.
   */
  async transition(
    id: string,
    to: SessionStatus,
    reason?: string | null,
    patch: TransitionPatch = {},
    via?: { status: SessionStatus; reason: string },
  ): Promise<Session> {
    if (!UUID_RE.test(id)) throw new NotFoundError("session", id);
    // One statement, one round trip (it was begin, select for update,
    // update, insert, commit: five, on the path of every session start):
    // the update only matches a status that may move to `to` (through
    // `via`, logged as its own event), and takes the row lock; a
    // concurrent change is re-checked by Postgres.
    if (via && !canTransition(via.status, to)) {
      throw new IllegalTransitionError(id, via.status, to);
    }
    const first = via?.status ?? to;
    const from = SESSION_STATUSES.filter((s) => canTransition(s, first));
    const sql = this.sql;
    const extra = joinFragments(sql, [
      patch.agentId !== undefined ? sql`agent_id = ${patch.agentId}` : null,
      patch.occupiedSlots !== undefined
        ? sql`occupied_slots = ${json(patch.occupiedSlots)}::text::jsonb`
        : null,
      isLive(to) ? null : sql`terminated_at = coalesce(terminated_at, now())`,
    ]);
    const rows = await sql`
      with moved as (
        update sessions set status = ${to}, status_info = ${reason ?? null} ${
      extra ? sql`, ${extra}` : sql``
    }
        where id = ${id} and status = any(${from}::text[]) returning *
      ), logged as (
        insert into session_events (session_id, status, reason)
        select id, e.status, e.reason from moved, (values ${
      via
        ? sql`(0, ${via.status}, ${via.reason}), (1, ${to}, ${reason ?? null})`
        : sql`(0, ${to}, ${reason ?? null})`
    }) as e(n, status, reason) order by e.n
      )
      select * from moved`;
    if (rows.length === 0) {
      const [cur] = await sql`select status from sessions where id = ${id}`;
      if (!cur) throw new NotFoundError("session", id);
      throw new IllegalTransitionError(id, cur.status as SessionStatus, first);
    }
    return toSession(rows[0]);
  }

  /** The session by full id, or null. */
  async get(id: string): Promise<Session | null> {
    if (!UUID_RE.test(id)) return null;
    const [row] = await this.sql`select * from sessions where id = ${id}`;
    return row ? toSession(row) : null;
  }

  /**
   * Sessions of `accessKey` that `ref` names, following Backend.AI: a full
   * session id or an exact name wins alone (the live session of that name,
   * else with `includeEnded` the newest ended one); otherwise every session
   * whose id or name starts with `ref`, newest first (at most 10), the live
   * ones only if any is live. More than
   * one result means "too many sessions matched"; none means "not found".
   */
  async findByRef(
    accessKey: string,
    ref: string,
    options: FindByRefOptions = {},
  ): Promise<Session[]> {
    if (ref === "") return [];
    const sql = this.sql;
    const liveOnly = options.includeEnded
      ? sql``
      : sql`and status <> all(${ENDED})`;
    if (UUID_RE.test(ref)) {
      const rows = await sql`
        select * from sessions where access_key = ${accessKey} and id = ${ref} ${liveOnly}`;
      if (rows.length > 0) return rows.map(toSession);
    }
    const exact = await sql`
      select * from sessions where access_key = ${accessKey} and name = ${ref} ${liveOnly}
      order by (status <> all(${ENDED})) desc, created_at desc limit 1`;
    if (exact.length > 0) return exact.map(toSession);
    const pattern = escapeLike(ref) + "%";
    const rows = await sql`
      select * from sessions
      where access_key = ${accessKey} ${liveOnly}
        and (id::text like lower(${pattern}) or name like ${pattern})
      order by created_at desc limit ${MAX_REF_MATCHES}`;
    const found = rows.map(toSession);
    // A prefix naming one live session and some ended ones means the live
    // one: ended sessions only answer when nothing live matches.
    const live = found.filter((r) => !ENDED.includes(r.status));
    return live.length > 0 ? live : found;
  }

  /** Live sessions (not TERMINATED, CANCELLED, ERROR), oldest first. */
  async listLive(
    filters: Omit<SessionFilter, "status"> = {},
  ): Promise<Session[]> {
    const where = this.where(filters);
    const rows = await this.sql`
      select * from sessions where status <> all(${ENDED}) ${
      where ? this.sql`and ${where}` : this.sql``
    }
      order by created_at, id`;
    return rows.map(toSession);
  }

  /** A page of sessions, newest first, and how many match in total. */
  async list(
    options: SessionListOptions = {},
  ): Promise<{ items: Session[]; total: number }> {
    const sql = this.sql;
    const where = this.where(options.filters ?? {});
    const cond = where ? sql`where ${where}` : sql``;
    const [count] = await sql`select count(*)::int as n from sessions ${cond}`;
    const rows = await sql`
      select * from sessions ${cond} order by created_at desc, id
      limit ${options.limit ?? 100} offset ${options.offset ?? 0}`;
    return { items: rows.map(toSession), total: Number(count.n) };
  }

  /** The status history of a session, in order. */
  async events(id: string): Promise<SessionEvent[]> {
    if (!UUID_RE.test(id)) return [];
    return (await this
      .sql`select * from session_events where session_id = ${id} order by id`)
      .map(toEvent);
  }

  /**
   * Counts executed queries (`queries` more, or a `numQueries` total; a
   * total never lowers the count) and refreshes last_activity (idle
   * timeout) and, if given, last_stat.
   */
  async recordActivity(
    id: string,
    activity: { queries?: number; numQueries?: number; lastStat?: Json } = {},
  ): Promise<Session | null> {
    if (!UUID_RE.test(id)) return null;
    const stat = activity.lastStat === undefined
      ? null
      : json(activity.lastStat);
    const [row] = await this.sql`
      update sessions set num_queries = greatest(num_queries + ${
      activity.queries ?? 0
    }, ${activity.numQueries ?? 0}), last_activity = now(),
        last_stat = coalesce(${stat}::text::jsonb, last_stat)
      where id = ${id} returning *`;
    return row ? toSession(row) : null;
  }

  /** Sets scale-in protection. */
  async setProtected(id: string, value: boolean): Promise<Session | null> {
    if (!UUID_RE.test(id)) return null;
    const [row] = await this
      .sql`update sessions set protected = ${value} where id = ${id} returning *`;
    return row ? toSession(row) : null;
  }

  private where(
    f: SessionFilter,
  ): postgres.PendingQuery<postgres.Row[]> | null {
    const sql = this.sql;
    return joinFragments(sql, [
      f.accessKey !== undefined ? sql`access_key = ${f.accessKey}` : null,
      f.status !== undefined ? sql`status = any(${f.status})` : null,
      f.scalingGroup !== undefined
        ? sql`scaling_group = ${f.scalingGroup}`
        : null,
      f.agentId !== undefined ? sql`agent_id = ${f.agentId}` : null,
    ], "and");
  }
}
