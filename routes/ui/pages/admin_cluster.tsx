/**
 * Operators: scaling groups (scheduler, autoscaler bounds and prices), the pending
 * queue with each session's reason, keypairs, and resource policies. Read
 * views over the admin port; admin keypairs only (mod.ts guards
 * `/admin/*`).
 *
 * @module
 */
// Server-rendered only: keys matter to client-side diffing, and in
// precompile mode they would be printed as HTML attributes.
// deno-lint-ignore-file jsx-key
import type { Hono } from "hono";
import type { FC } from "hono/jsx";
import type { UiContext, UiEnv } from "../env.ts";
import type { PriceTableView } from "../../../actors/manager/port/mod.ts";
import {
  formatBytes,
  formatConfiguration,
  formatCost,
  formatSeconds,
  formatTime,
} from "../format.ts";
import { render } from "../render.tsx";

/** Paths of the pages (nav table). */
export const GROUPS_PATH = "/admin/scaling-groups";
export const PENDING_PATH = "/admin/pending";
export const KEYPAIRS_PATH = "/admin/keypairs";
export const POLICIES_PATH = "/admin/policies";

type Row = Record<string, unknown>;
const slots = (v: unknown) =>
  formatConfiguration(
    v && typeof v === "object" ? v as Record<string, number> : {},
  );
const text = (v: unknown) => v === null || v === undefined ? "—" : String(v);
const yesNo = (v: unknown) => (v ? "yes" : "no");

/** A group's price table in words: "core 0.05 · GiB 0.01 · cuda.device 1.20". */
function priceText(p: PriceTableView | null | undefined): string {
  if (!p) return "not priced (free)";
  return [
    `core ${formatCost(p.cpuCoreHour)}`,
    `GiB ${formatCost(p.memGiBHour)}`,
    ...Object.entries(p.deviceHour).map(([k, v]) => `${k} ${formatCost(v)}`),
  ].join(" · ");
}

/** A table of rows with labelled cells (cards on narrow screens). */
const Table: FC<{
  id: string;
  cols: string[];
  rows: (string | number)[][];
  empty: string;
}> = (p) =>
  p.rows.length === 0
    ? <p class="empty">{p.empty}</p>
    : (
      <div class="table-wrap">
        <table id={p.id}>
          <thead>
            <tr>{p.cols.map((h) => <th scope="col">{h}</th>)}</tr>
          </thead>
          <tbody>
            {p.rows.map((r) => (
              <tr>
                {r.map((cell, i) =>
                  i === 0
                    ? <th scope="row" data-label={p.cols[0]}>{String(cell)}</th>
                    : <td data-label={p.cols[i]}>{String(cell)}</td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    );

/** Mounts scaling groups, pending queue, keypairs and policies. */
export function mountCluster(app: Hono<UiEnv>, ctx: UiContext): void {
  const admin = ctx.deps.admin;

  app.get(GROUPS_PATH, async (c) => {
    const [groups, prices] = await Promise.all([
      admin.listScalingGroups(),
      ctx.deps.cost?.prices().catch(() => undefined),
    ]);
    const withBounds = await Promise.all(groups.map(async (g) => {
      const a = await admin.getAutoscaler(String(g.name)).catch(() => null);
      return { g, cfg: (a?.config ?? {}) as Row, status: a?.status as Row };
    }));
    return render(c, ctx, {
      title: "Scaling groups",
      active: GROUPS_PATH,
      children: (
        <Table
          id="groups"
          cols={[
            "Group",
            "Active",
            "Scheduler",
            "Autoscaler",
            "Min agents",
            "Max agents",
            "Target free capacity",
            ...(prices ? ["Prices per hour"] : []),
          ]}
          empty="No scaling group."
          rows={withBounds.map(({ g, cfg }) => [
            text(g.name),
            yesNo(g.isActive),
            text(g.scheduler),
            cfg.enabled ? "on" : "off",
            text(cfg.minAgents),
            text(cfg.maxAgents),
            slots(cfg.targetFreeCapacity),
            ...(prices ? [priceText(prices[String(g.name)])] : []),
          ])}
        />
      ),
    });
  });

  app.get(PENDING_PATH, async (c) => {
    const pending = await admin.pendingSessions();
    return render(c, ctx, {
      title: "Pending queue",
      active: PENDING_PATH,
      children: (
        <Table
          id="pending"
          cols={[
            "Session",
            "Access key",
            "Scaling group",
            "Asks for",
            "Waiting since",
            "Reason",
          ]}
          empty="Nothing is waiting."
          rows={pending.map((p) => [
            text(p.sessionId),
            text(p.accessKey),
            text(p.scalingGroup),
            slots(p.slots),
            formatTime(text(p.since)),
            `${text(p.reason)} (${text(p.code)})`,
          ])}
        />
      ),
    });
  });

  app.get(KEYPAIRS_PATH, async (c) => {
    const keypairs = await admin.listKeypairs();
    return render(c, ctx, {
      title: "Keypairs",
      active: KEYPAIRS_PATH,
      children: (
        <Table
          id="keypairs"
          cols={[
            "Access key",
            "User",
            "Active",
            "Admin",
            "Rate limit",
            "Resource policy",
            "Created",
          ]}
          empty="No keypair."
          rows={keypairs.map((k) => [
            k.accessKey,
            text(k.userId),
            yesNo(k.isActive),
            yesNo(k.isAdmin),
            text(k.rateLimit),
            k.resourcePolicy,
            formatTime(text(k.createdAt)),
          ])}
        />
      ),
    });
  });

  app.get(POLICIES_PATH, async (c) => {
    const policies = await admin.listResourcePolicies();
    return render(c, ctx, {
      title: "Resource policies",
      active: POLICIES_PATH,
      children: (
        <Table
          id="policies"
          cols={[
            "Policy",
            "Total slots",
            "Concurrent sessions",
            "Containers per session",
            "Idle timeout",
            "Max lifetime",
            "Folders",
            "Folder size",
            "Daily cost limit",
          ]}
          empty="No resource policy."
          rows={policies.map((p) => [
            text(p.name),
            slots(p.totalResourceSlots),
            text(p.maxConcurrentSessions),
            text(p.maxContainersPerSession),
            formatSeconds(Number(p.idleTimeout ?? 0)),
            formatSeconds(Number(p.maxSessionLifetime ?? 0)),
            text(p.maxVfolderCount),
            Number(p.maxVfolderSize) > 0
              ? formatBytes(Number(p.maxVfolderSize))
              : "no limit",
            p.dailyCostLimit === null || p.dailyCostLimit === undefined
              ? "no limit"
              : text(p.dailyCostLimit),
          ])}
        />
      ),
    });
  });
}
