/**
 * Cost figures the dashboard's pages and live stream share: each
 * session's cost so far (from the port's usage report over the sessions'
 * lifetime) and today's standing against the daily limit, formatted on
 * the server like every other figure.
 *
 * @module
 */
import type {
  Caller,
  CostDeps,
  CostTodayView,
  JobView,
} from "../../actors/manager/port/mod.ts";
import { formatCost } from "./format.ts";

/** Sessions one report covers (the Jobs page lists fewer). */
const MAX_SESSIONS = 1000;

/**
 * Cost so far of each of `jobs` by session id, or an empty map when the
 * manager has no cost part or the report fails (the cells then read "—").
 */
export async function sessionCosts(
  cost: CostDeps | undefined,
  caller: Caller,
  jobs: Pick<JobView, "sessionId" | "createdAt">[],
): Promise<Map<string, number>> {
  if (!cost || jobs.length === 0) return new Map();
  const from = Math.min(...jobs.map((j) => Date.parse(j.createdAt)));
  if (!Number.isFinite(from)) return new Map();
  try {
    const r = await cost.usage(caller, {
      // A minute early: the report's window starts at `from` exactly.
      from: new Date(from - 60_000).toISOString(),
      limit: MAX_SESSIONS,
      offset: 0,
    });
    return new Map(r.sessions.map((s) => [s.sessionId, s.cost]));
  } catch {
    return new Map();
  }
}

/** A cost cell's text. */
export function costText(costs: Map<string, number>, id: string): string {
  const c = costs.get(id);
  return c === undefined ? "—" : formatCost(c);
}

/** Today's standing as the Summary and the stream show it. */
export interface TodayFigures {
  spent: string;
  /** `"of 10.00"`, or `"(no daily limit)"`. */
  limit: string;
  /** 0..1 for the meter; 0 without a limit. */
  ratio: number;
  level: CostTodayView["level"];
  /** `"projected 3.10 by midnight (UTC)"`. */
  projected: string;
  hasLimit: boolean;
  /** The raw limit (the meter's max). */
  max: number;
  value: number;
}

/** Formats today's standing. */
export function todayFigures(t: CostTodayView): TodayFigures {
  const hasLimit = t.limit !== null;
  return {
    spent: formatCost(t.spent),
    limit: hasLimit ? `of ${formatCost(t.limit!)}` : "(no daily limit)",
    ratio: hasLimit ? Math.min(1, t.ratio) : 0,
    level: t.level,
    projected: `projected ${
      formatCost(t.projected)
    } by midnight (${t.timeZone})`,
    hasLimit,
    max: hasLimit ? t.limit! : 0,
    value: t.spent,
  };
}

/** Today's standing of the caller, or undefined without a cost part (or on failure). */
export async function todayOf(
  cost: CostDeps | undefined,
  caller: Caller,
): Promise<TodayFigures | undefined> {
  if (!cost) return undefined;
  try {
    return todayFigures((await cost.settings(caller)).today);
  } catch {
    return undefined;
  }
}
