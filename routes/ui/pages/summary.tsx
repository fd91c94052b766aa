/**
 * The Summary page: running sessions and slots in use against the
 * keypair's resource policy, storage used by its folders, and today's
 * cost against the daily limit, live from the event stream. A manager
 * without folders or cost metering shows no card for them.
 *
 * @module
 */
import type { Context, Hono } from "hono";
import type { FC } from "hono/jsx";
import type { UiContext, UiEnv } from "../env.ts";
import type { KeypairUsageSummary } from "../../../actors/manager/port/mod.ts";
import { formatBytes, formatSlot } from "../format.ts";
import { type TodayFigures, todayOf } from "../costs.ts";
import { foldersWithUsage } from "./folders.tsx";
import { fragment, render } from "../render.tsx";
import { callerOf } from "../web_session.ts";

/** Slots always shown, then any other slot in use or capped. */
const SLOT_ORDER = ["cpu", "mem", "cuda.device"];

const SlotMeter: FC<{ slot: string; used: number; cap?: number }> = (p) => {
  const id = `slot-${p.slot.replace(/[^a-z0-9]/gi, "-")}`;
  const label = p.slot === "cpu"
    ? "CPU"
    : p.slot === "mem"
    ? "Memory"
    : p.slot === "cuda.device"
    ? "GPUs"
    : p.slot;
  const capped = p.cap !== undefined && p.cap > 0;
  return (
    <div class="meter-row">
      <span id={id} class="meter-label">{label}</span>
      {capped
        ? (
          <meter
            aria-labelledby={id}
            min={0}
            max={p.cap}
            value={p.used}
            high={p.cap! * 0.8}
          />
        )
        : <span class="meter-none" />}
      <span class="meter-text" data-slot={p.slot}>
        {formatSlot(p.slot, p.used)}
        {capped ? ` of ${formatSlot(p.slot, p.cap!)}` : " (no limit)"}
      </span>
    </div>
  );
};

/** Storage of the caller's folders. */
interface StorageFigures {
  folders: number;
  usedBytes: number;
}

const StorageCard: FC<{ s: StorageFigures }> = ({ s }) => (
  <section class="card" aria-labelledby="storage-h">
    <h2 id="storage-h">Storage used</h2>
    <p class="big" id="storage-used">{formatBytes(s.usedBytes)}</p>
    <p>
      {`in ${s.folders} ${s.folders === 1 ? "folder" : "folders"}. `}
      <a href="/ui/folders">See folders</a>
    </p>
  </section>
);

/** Today's cost against the daily limit; the stream's `cost` event refreshes its figures. */
const CostCard: FC<{ t: TodayFigures }> = ({ t }) => (
  <section class="card" aria-labelledby="cost-h">
    <h2 id="cost-h">Today's cost</h2>
    <p class="big">
      <span data-cost-today="spent">{t.spent}</span>{" "}
      <span class="note" data-cost-today="limit">{t.limit}</span>
    </p>
    {t.hasLimit && (
      <div class="meter-row">
        <span id="cost-label" class="meter-label">Daily limit</span>
        <meter
          id="cost-meter"
          aria-labelledby="cost-label"
          min={0}
          max={t.max}
          value={t.value}
          high={t.max * 0.8}
        />
      </div>
    )}
    <p class="note" data-cost-today="projected">{t.projected}</p>
    <p>
      <a href="/ui/stats">Statistics and billing</a>
      {" · "}
      <a href="/ui/settings">Cost settings</a>
    </p>
  </section>
);

/** Sessions and slots against the policy, storage and today's cost; swapped in whole on each change. */
export const SummaryPanel: FC<
  { s: KeypairUsageSummary; storage?: StorageFigures; today?: TodayFigures }
> = ({ s, storage, today }) => {
  const slots = [
    ...SLOT_ORDER.filter((k) =>
      k !== "cuda.device" ||
      (s.occupiedSlots[k] ?? 0) > 0 || (s.totalResourceSlots[k] ?? 0) > 0
    ),
    ...Object.keys({ ...s.occupiedSlots, ...s.totalResourceSlots })
      .filter((k) => !SLOT_ORDER.includes(k)).sort(),
  ];
  return (
    <div id="summary-panel" class="cards">
      <section class="card" aria-labelledby="sessions-h">
        <h2 id="sessions-h">Sessions</h2>
        <p class="big">
          <span id="running-count">{s.runningSessions}</span> running
        </p>
        <div class="meter-row">
          <span id="conc-label" class="meter-label">Live sessions</span>
          {s.maxConcurrentSessions > 0
            ? (
              <meter
                aria-labelledby="conc-label"
                min={0}
                max={s.maxConcurrentSessions}
                value={s.liveSessions}
              />
            )
            : <span class="meter-none" />}
          <span class="meter-text" id="live-count">
            {s.liveSessions}
            {s.maxConcurrentSessions > 0
              ? ` of ${s.maxConcurrentSessions}`
              : " (no limit)"}
          </span>
        </div>
        <p>
          <a href="/ui/jobs">See jobs</a>
        </p>
      </section>
      <section class="card" aria-labelledby="slots-h">
        <h2 id="slots-h">Resources in use</h2>
        <p class="note">
          Against the resource policy <code>{s.resourcePolicy}</code>.
        </p>
        {slots.map((k) => (
          <SlotMeter
            slot={k}
            used={s.occupiedSlots[k] ?? 0}
            cap={s.totalResourceSlots[k]}
          />
        ))}
      </section>
      {storage && <StorageCard s={storage} />}
      {today && <CostCard t={today} />}
    </div>
  );
};

async function panel(c: Context<UiEnv>, ctx: UiContext) {
  const caller = callerOf(c);
  const folders = ctx.deps.folders;
  const [s, storage, today] = await Promise.all([
    ctx.deps.web.summary(caller),
    folders
      ? foldersWithUsage(folders, caller).then((rows) => ({
        folders: rows.length,
        usedBytes: rows.reduce((n, r) => n + r.usedBytes, 0),
      })).catch(() => undefined)
      : undefined,
    todayOf(ctx.deps.cost, caller),
  ]);
  return <SummaryPanel s={s} storage={storage} today={today} />;
}

/** Mounts the Summary (`/ui`) and its live panel fragment. */
export function mountSummary(app: Hono<UiEnv>, ctx: UiContext): void {
  app.get("/", async (c) =>
    render(c, ctx, {
      title: "Summary",
      active: "",
      page: "summary",
      live: true,
      children: await panel(c, ctx),
    }));
  app.get("/summary/panel", async (c) => fragment(c, await panel(c, ctx)));
}
