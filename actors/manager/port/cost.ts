/**
 * The cost operations of the manager's port (routes/cost.ts): prices and
 * estimates, usage statistics, a keypair's cost settings and today's
 * standing against its daily limit, the admin's price tables; and the
 * session activity calls terminals, app proxies and the dashboard use
 * (suspend, resume, hold, touch).
 *
 * @module
 */

import type { Caller } from "./keypairs.ts";
import type { SessionInfo } from "./sessions.ts";

/** A cost broken down by meter (currency of the price tables). */
export interface MeterCost {
  cpu: number;
  mem: number;
  /** Per device slot. */
  devices: Record<string, number>;
  total: number;
}

/** A scaling group's price table (`PUT /x/admin/scaling-groups/{g}/prices`). */
export interface PriceTableView {
  /** One core for one hour. */
  cpuCoreHour: number;
  /** One GiB of memory for one hour. */
  memGiBHour: number;
  /** One unit of each device slot for one hour; a slot left out is free. */
  deviceHour: Record<string, number>;
}

/** `POST /x/cost/estimate` input, validated. */
export interface CostEstimateRequest {
  /** Slot → amount; `mem` in bytes. */
  resources: Record<string, number>;
  /** Also price this group. */
  scalingGroup?: string;
  /** Hours for `total`. @default {24} */
  hours?: number;
}

/** A request priced in one scaling group. */
export interface GroupEstimate {
  scalingGroup: string;
  /** One of its agents has the room for it now. */
  fits: boolean;
  /** The group has a price table (otherwise everything is free there). */
  priced: boolean;
  perHour: MeterCost;
  perDay: MeterCost;
  /** SUSPENDED: memory only. */
  paused: { perHour: MeterCost; perDay: MeterCost };
  hours: number;
  /** Running for `hours`. */
  total: MeterCost;
}

/** `POST /x/cost/estimate` answer. */
export interface CostEstimate {
  resources: Record<string, number>;
  hours: number;
  /** The cheapest group that can host it now; null when none can. */
  cheapest: GroupEstimate | null;
  /** The group the request named, when it named one. */
  named?: GroupEstimate;
  /** Every group: those with room first, each part cheapest first. */
  groups: { scalingGroup: string; perHour: number; fits: boolean }[];
}

/** Usage and cost over an interval (allocation: slots held × time). */
export interface UsageFiguresView {
  runningMs: number;
  pausedMs: number;
  /** CPU core-ms held. */
  cpuMs: number;
  /** Memory KiB·ms held. */
  memKiBMs: number;
  /** Unit·ms per device slot. */
  deviceMs: Record<string, number>;
  cost: number;
}

/** `GET /x/usage` and `GET /x/admin/usage` query, validated. */
export interface UsageQuery {
  /** `YYYY-MM-DD` (a local date in the zone) or an ISO 8601 time; default: 6 days before today. */
  from?: string;
  /** Exclusive; `YYYY-MM-DD` means the end of that day; default: now. */
  to?: string;
  /** Sessions per page. */
  limit: number;
  offset: number;
  /** Admin: one keypair only. */
  accessKey?: string;
  /** Admin: the zone of the days; a keypair's own report uses its setting. */
  timeZone?: string;
}

/** A usage report. */
export interface UsageReport {
  from: string;
  to: string;
  timeZone: string;
  totals: UsageFiguresView;
  /** Every cost day of the range, oldest first, days without use included. */
  days: (UsageFiguresView & { date: string })[];
  /** A page of the sessions that held slots in the range, newest first. */
  sessions: (UsageFiguresView & {
    sessionId: string;
    sessionName: string;
    accessKey: string;
    scalingGroup: string;
    status: string;
    createdAt: string;
    terminatedAt: string | null;
  })[];
  /** Sessions in the range (all pages). */
  total: number;
  /** Admin report: per keypair, most expensive first. */
  keypairs?: (UsageFiguresView & { accessKey: string })[];
}

/** A keypair's standing today against its daily limit. */
export interface CostTodayView {
  date: string;
  timeZone: string;
  resetsAt: string;
  spent: number;
  /** The enforced limit; null = unlimited. */
  limit: number | null;
  ratio: number;
  level: "ok" | "warn" | "limit";
  burnPerHour: number;
  /** At the current burn rate until midnight. */
  projected: number;
}

/** `GET /x/cost/settings`. */
export interface CostSettingsView {
  /** The keypair's own limit (null: its policy's alone). */
  dailyCostLimit: number | null;
  /** Seconds idle before a session is paused; 0 = never. */
  idlePauseSeconds: number;
  /** What running sessions get at the limit. */
  action: "pause" | "terminate";
  warnRatio: number;
  /** Queue new sessions instead of refusing them, while the projection passes the limit. */
  maintain: boolean;
  timeZone: string;
  /** The resource policy's `daily_cost_limit`. */
  policyDailyCostLimit: number | null;
  /** The smaller of the two: what is enforced. */
  effectiveDailyCostLimit: number | null;
  today: CostTodayView;
}

/** Cost operations of the API (`/x/cost/...`, `/x/usage`, `/x/admin/...`). */
export interface CostDeps {
  estimate(caller: Caller, req: CostEstimateRequest): Promise<CostEstimate>;
  /** Every scaling group's price table (null: not priced). */
  prices(): Promise<Record<string, PriceTableView | null>>;
  usage(caller: Caller, q: UsageQuery): Promise<UsageReport>;
  settings(caller: Caller): Promise<CostSettingsView>;
  /**
   * Changes the given settings (validated by the edge); throws
   * invalid-api-params for a limit above the policy's.
   */
  putSettings(
    caller: Caller,
    patch: Partial<Omit<CostSettingsView, "today">>,
  ): Promise<CostSettingsView>;
  /**
   * The `X-BackendAI-Cost-Warning` value for a keypair at 80 % or more of
   * its limit today, else undefined; synchronous (from the latest cost
   * events), so it costs nothing per request.
   */
  warning(accessKey: string): string | undefined;
  /** Admin. */
  getPrices(
    group: string,
  ): Promise<{ scalingGroup: string; prices: PriceTableView | null }>;
  /** Admin: null clears the group's prices. */
  putPrices(
    group: string,
    prices: PriceTableView | null,
  ): Promise<{ scalingGroup: string; prices: PriceTableView | null }>;
  /** Admin: across keypairs. */
  adminUsage(q: UsageQuery): Promise<UsageReport>;
}

/** A hold on a session (see {@link SessionActivityDeps.hold}). */
export interface SessionHold {
  /** Ends the hold; the session's idle time starts now. Idempotent. */
  release(): Promise<void>;
}

/**
 * What keeps a session awake, for terminals, app proxies and the
 * dashboard. A session left idle (no run, no stream, nothing holding it)
 * for its keypair's `idlePauseSeconds` is paused (SUSPENDED); any request
 * that needs its kernel resumes it transparently.
 */
export interface SessionActivityDeps {
  /** Pauses the session now (RUNNING → SUSPENDED); answers once frozen. */
  suspend(caller: Caller, ref: string): Promise<SessionInfo>;
  /** Resumes a SUSPENDED session; answers once RUNNING (412 at the cost limit, 503 without room). */
  resume(caller: Caller, ref: string): Promise<SessionInfo>;
  /**
   * Keeps the session from idling until `release()` (a terminal or app
   * proxy connection's lifetime); resumes it first if it is SUSPENDED.
   * `holder` names the holder, unique per connection (`pty:CHANNEL_ID`).
   */
  hold(caller: Caller, ref: string, holder: string): Promise<SessionHold>;
  /** Restarts the session's idle time (a keystroke, a proxied request). */
  touch(caller: Caller, ref: string): Promise<void>;
}
