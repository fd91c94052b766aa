/**
 * Settings: the keypair's cost settings through the port's
 * `cost.settings` / `cost.putSettings` (stored in Postgres, so they hold
 * across a reload and a manager restart): the daily cost limit (never
 * above the resource policy's) and what reaching it does, "maintain
 * workload in the selected cost", automatic cost optimisation (pausing
 * idle sessions, after the idle pause time), the warning level and the
 * time zone of the cost day.
 *
 * The form's bounds are the policy's; the port checks them again and its
 * refusal is shown on the form.
 *
 * @module
 */
import type { Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { UiContext, UiEnv } from "../env.ts";
import type { CostSettingsView } from "../../../actors/manager/port/mod.ts";
import { MAX_IDLE_PAUSE_SECONDS } from "../../../policies/cost/settings.ts";
import { CSRF_FIELD } from "../csrf.ts";
import { formatCost } from "../format.ts";
import { render } from "../render.tsx";
import { callerOf } from "../web_session.ts";
import { toProblem } from "../../problems.ts";

/** Path of the page (nav table). */
export const SETTINGS_PATH = "/settings";

const MAX_IDLE_MINUTES = MAX_IDLE_PAUSE_SECONDS / 60;
/** Idle pause time offered when optimisation is first switched on. */
const DEFAULT_IDLE_MINUTES = 30;

/** Every zone the runtime knows, UTC first. */
const TIME_ZONES: readonly string[] = [
  "UTC",
  ...Intl.supportedValuesOf("timeZone").filter((z) => z !== "UTC"),
];

type Patch = Parameters<
  NonNullable<UiContext["deps"]["cost"]>["putSettings"]
>[1];

/** The form's fields as a settings change, or the first problem with them. */
export function parseSettingsForm(
  form: Record<string, unknown>,
  policyLimit: number | null,
): { patch: Patch } | { error: string } {
  const str = (k: string) =>
    typeof form[k] === "string" ? (form[k] as string).trim() : "";
  const limitText = str("dailyCostLimit");
  let dailyCostLimit: number | null = null;
  if (limitText !== "") {
    dailyCostLimit = Number(limitText);
    if (!Number.isFinite(dailyCostLimit) || dailyCostLimit < 0) {
      return { error: "The daily cost limit is a number, 0 or more." };
    }
    if (policyLimit !== null && dailyCostLimit > policyLimit) {
      return {
        error: `Your resource policy allows a daily limit of at most ${
          formatCost(policyLimit)
        }.`,
      };
    }
  }
  const action = str("action");
  if (action !== "pause" && action !== "terminate") {
    return { error: "Choose what happens at the limit." };
  }
  const auto = str("optimise") === "on";
  let idlePauseSeconds = 0;
  if (auto) {
    const minutes = Number(str("idleMinutes"));
    if (
      !Number.isInteger(minutes) || minutes < 1 || minutes > MAX_IDLE_MINUTES
    ) {
      return {
        error:
          `The idle pause time is a whole number of minutes, 1 to ${MAX_IDLE_MINUTES}.`,
      };
    }
    idlePauseSeconds = minutes * 60;
  }
  const warn = Number(str("warnPercent"));
  if (!Number.isInteger(warn) || warn < 1 || warn > 100) {
    return { error: "Warn at a whole percentage, 1 to 100." };
  }
  const timeZone = str("timeZone");
  if (!TIME_ZONES.includes(timeZone)) return { error: "Choose a time zone." };
  return {
    patch: {
      dailyCostLimit,
      action,
      maintain: str("maintain") === "on",
      idlePauseSeconds,
      warnRatio: warn / 100,
      timeZone,
    },
  };
}

async function settingsPage(
  c: Context<UiEnv>,
  ctx: UiContext,
  opts: {
    error?: string;
    saved?: boolean;
    values?: Record<string, unknown>;
    status?: ContentfulStatusCode;
  } = {},
) {
  const s: CostSettingsView = await ctx.deps.cost!.settings(callerOf(c));
  const f = opts.values;
  const val = (k: string, d: string) =>
    f && typeof f[k] === "string" ? String(f[k]) : d;
  const on = (k: string, d: boolean) => (f ? f[k] === "on" : d);
  const policy = s.policyDailyCostLimit;
  const idleMinutes = s.idlePauseSeconds > 0
    ? String(Math.round(s.idlePauseSeconds / 60))
    : String(DEFAULT_IDLE_MINUTES);
  return render(c, ctx, {
    title: "Settings",
    active: SETTINGS_PATH,
    page: "settings",
    status: opts.status,
    children: (
      <form
        class="card narrow"
        method="post"
        action={`/ui${SETTINGS_PATH}`}
        id="settings"
      >
        {opts.saved && (
          <p role="status" id="settings-saved" class="ok">Settings saved.</p>
        )}
        {opts.error && (
          <p class="error" role="alert" id="settings-error">{opts.error}</p>
        )}
        <input
          type="hidden"
          name={CSRF_FIELD}
          value={c.get("web")!.csrfToken}
        />
        <fieldset>
          <legend>Cost limit for a day</legend>
          <label for="daily-limit">Daily cost limit</label>
          <input
            id="daily-limit"
            name="dailyCostLimit"
            type="number"
            inputmode="decimal"
            min="0"
            step="0.01"
            max={policy === null ? undefined : String(policy)}
            value={val(
              "dailyCostLimit",
              s.dailyCostLimit === null ? "" : String(s.dailyCostLimit),
            )}
            aria-describedby="limit-hint"
          />
          <p class="hint" id="limit-hint">
            {policy === null
              ? "Empty: no limit of your own (your resource policy sets none)."
              : `Empty: your resource policy's limit, ${
                formatCost(policy)
              }, which is also the most you can set.`}
            {` Enforced now: ${
              s.effectiveDailyCostLimit === null
                ? "no limit"
                : formatCost(s.effectiveDailyCostLimit)
            }; spent today ${formatCost(s.today.spent)}.`}
          </p>
          <label for="limit-action">When the limit is reached</label>
          <select id="limit-action" name="action">
            <option
              value="pause"
              selected={val("action", s.action) === "pause"}
            >
              Pause running sessions
            </option>
            <option
              value="terminate"
              selected={val("action", s.action) === "terminate"}
            >
              Terminate running sessions
            </option>
          </select>
          <label for="warn-percent">Warn at (% of the limit)</label>
          <input
            id="warn-percent"
            name="warnPercent"
            type="number"
            min="1"
            max="100"
            step="1"
            value={val("warnPercent", String(Math.round(s.warnRatio * 100)))}
          />
          <div class="check">
            <input
              type="checkbox"
              id="maintain"
              name="maintain"
              checked={on("maintain", s.maintain)}
              aria-describedby="maintain-hint"
            />
            <label for="maintain">Maintain workload in the selected cost</label>
          </div>
          <p class="hint" id="maintain-hint">
            New sessions wait in the queue, rather than being refused, while
            today's projected cost passes the limit.
          </p>
        </fieldset>
        <fieldset>
          <legend>Automatic cost optimisation</legend>
          <div class="check">
            <input
              type="checkbox"
              id="optimise"
              name="optimise"
              checked={on("optimise", s.idlePauseSeconds > 0)}
              aria-describedby="optimise-hint"
            />
            <label for="optimise">Pause idle sessions automatically</label>
          </div>
          <p class="hint" id="optimise-hint">
            A session with no run, stream or open terminal for the idle pause
            time is suspended (memory only is billed) and resumes on its next
            use. Sessions that name no scaling group always go to the cheapest
            one with room.
          </p>
          <label for="idle-minutes">Idle pause time (minutes)</label>
          <input
            id="idle-minutes"
            name="idleMinutes"
            type="number"
            min="1"
            max={String(MAX_IDLE_MINUTES)}
            step="1"
            value={val("idleMinutes", idleMinutes)}
          />
        </fieldset>
        <label for="time-zone">Time zone of the cost day</label>
        <select id="time-zone" name="timeZone">
          {TIME_ZONES.map((z) => (
            <option value={z} selected={val("timeZone", s.timeZone) === z}>
              {z}
            </option>
          ))}
        </select>
        <button type="submit">Save settings</button>
      </form>
    ),
  });
}

/** Mounts the page and its form. */
export function mountSettings(app: Hono<UiEnv>, ctx: UiContext): void {
  const cost = ctx.deps.cost!;
  app.get(
    SETTINGS_PATH,
    (c) => settingsPage(c, ctx, { saved: c.req.query("saved") === "1" }),
  );
  app.post(SETTINGS_PATH, async (c) => {
    const form = await c.req.parseBody();
    const caller = callerOf(c);
    const current = await cost.settings(caller);
    const parsed = parseSettingsForm(form, current.policyDailyCostLimit);
    if ("error" in parsed) {
      return settingsPage(c, ctx, {
        error: parsed.error,
        values: form,
        status: 400,
      });
    }
    try {
      await cost.putSettings(caller, parsed.patch);
    } catch (err) {
      const p = toProblem(err);
      if (!p) throw err;
      return settingsPage(c, ctx, {
        error: p.msg ?? p.title,
        values: form,
        status: p.status as ContentfulStatusCode,
      });
    }
    return c.redirect(`/ui${SETTINGS_PATH}?saved=1`, 303);
  });
}
