/**
 * The Summary page: running sessions and slots in use against the
 * keypair's resource policy, live from the event stream. Storage used and
 * today's cost come with virtual folders and cost (phase 2); until then
 * their cards say "not available" rather than show a made-up number.
 *
 * @module
 */
import type { Hono } from "hono";
import type { FC } from "hono/jsx";
import type { UiContext, UiEnv } from "../env.ts";
import type { KeypairUsageSummary } from "../../../actors/manager/port/mod.ts";
import { formatSlot } from "../format.ts";
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

/** Sessions and slots against the policy; swapped in whole on each change. */
export const SummaryPanel: FC<{ s: KeypairUsageSummary }> = ({ s }) => {
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
      <section class="card" aria-labelledby="storage-h" data-phase="2">
        <h2 id="storage-h">Storage used</h2>
        <p class="na">Not available yet: virtual folders are coming.</p>
      </section>
      <section class="card" aria-labelledby="cost-h" data-phase="2">
        <h2 id="cost-h">Today's cost</h2>
        <p class="na">Not available yet: cost metering is coming.</p>
      </section>
    </div>
  );
};

/** Mounts the Summary (`/ui`) and its live panel fragment. */
export function mountSummary(app: Hono<UiEnv>, ctx: UiContext): void {
  app.get("/", async (c) => {
    const s = await ctx.deps.web.summary(callerOf(c));
    return render(c, ctx, {
      title: "Summary",
      active: "",
      page: "summary",
      live: true,
      children: <SummaryPanel s={s} />,
    });
  });
  app.get(
    "/summary/panel",
    async (c) =>
      fragment(c, <SummaryPanel s={await ctx.deps.web.summary(callerOf(c))} />),
  );
}
