/**
 * Statistics and billing: the keypair's usage and cost per day as plots
 * (uPlot from npm, drawn by static/stats_chart.js from the figures in the
 * page), a table per day and per session, over a date range the user
 * picks (the port's `cost.usage`; days in the keypair's time zone).
 *
 * @module
 */
import type { Hono } from "hono";
import type { FC } from "hono/jsx";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { UiContext, UiEnv } from "../env.ts";
import type {
  UsageFiguresView,
  UsageReport,
} from "../../../actors/manager/port/mod.ts";
import {
  formatAge,
  formatCoreHours,
  formatCost,
  formatTime,
} from "../format.ts";
import { render } from "../render.tsx";
import { callerOf } from "../web_session.ts";
import { toProblem } from "../../problems.ts";

/** Path of the page (nav table). */
export const STATS_PATH = "/stats";

/** Sessions per page of the table. */
const PAGE = 50;

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** GiB·hours from KiB·ms. */
const gibHours = (kibMs: number) => kibMs / (1024 * 1024) / 3_600_000;

/** One day as the plot island reads it (numbers only, in a data attribute). */
interface PlotDay {
  date: string;
  cost: number;
  coreHours: number;
  memGiBHours: number;
}

const Figures: FC<{ f: UsageFiguresView }> = ({ f }) => (
  <>
    <td data-label="Running" class="nowrap">{formatAge(f.runningMs)}</td>
    <td data-label="CPU" class="nowrap">{formatCoreHours(f.cpuMs)}</td>
    <td data-label="Memory" class="nowrap">
      {`${Number(gibHours(f.memKiBMs).toFixed(3))} GiB-h`}
    </td>
    <td data-label="Cost" class="nowrap">{formatCost(f.cost)}</td>
  </>
);

const Report: FC<{ r: UsageReport; offset: number; query: string }> = (
  { r, offset, query },
) => {
  const days: PlotDay[] = r.days.map((d) => ({
    date: d.date,
    cost: d.cost,
    coreHours: d.cpuMs / 3_600_000,
    memGiBHours: gibHours(d.memKiBMs),
  }));
  const more = offset + r.sessions.length < r.total;
  return (
    <>
      <div class="cards">
        <section class="card" aria-labelledby="total-h">
          <h2 id="total-h">Total for the range</h2>
          <p class="big" id="stats-total">{formatCost(r.totals.cost)}</p>
          <p class="note">
            {`${formatCoreHours(r.totals.cpuMs)}, ${r.total} ${
              r.total === 1 ? "session" : "sessions"
            }; days in ${r.timeZone}.`}
          </p>
        </section>
      </div>
      <section class="card" aria-labelledby="cost-plot-h">
        <h2 id="cost-plot-h">Cost per day</h2>
        <div
          id="cost-chart"
          class="chart"
          role="img"
          aria-label="Cost per day; the same figures are in the table below"
          data-days={JSON.stringify(days)}
          data-series="cost"
        />
      </section>
      <section class="card" aria-labelledby="use-plot-h">
        <h2 id="use-plot-h">Usage per day</h2>
        <div
          id="usage-days-chart"
          class="chart"
          role="img"
          aria-label="CPU core-hours and memory GiB-hours per day; the same figures are in the table below"
          data-days={JSON.stringify(days)}
          data-series="usage"
        />
      </section>
      <section aria-labelledby="days-h">
        <h2 id="days-h">Per day</h2>
        <div class="table-wrap">
          <table id="days">
            <thead>
              <tr>
                <th scope="col">Day</th>
                <th scope="col">Running</th>
                <th scope="col">CPU</th>
                <th scope="col">Memory</th>
                <th scope="col">Cost</th>
              </tr>
            </thead>
            <tbody>
              {r.days.map((d) => (
                <tr>
                  <th scope="row" data-label="Day">{d.date}</th>
                  <Figures f={d} />
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
      <section aria-labelledby="sessions-h">
        <h2 id="sessions-h">Per session</h2>
        {r.sessions.length === 0
          ? <p class="empty">No session held resources in this range.</p>
          : (
            <div class="table-wrap">
              <table id="stats-sessions">
                <thead>
                  <tr>
                    <th scope="col">Session</th>
                    <th scope="col">Scaling group</th>
                    <th scope="col">Status</th>
                    <th scope="col">Started</th>
                    <th scope="col">Ended</th>
                    <th scope="col">Running</th>
                    <th scope="col">CPU</th>
                    <th scope="col">Memory</th>
                    <th scope="col">Cost</th>
                  </tr>
                </thead>
                <tbody>
                  {r.sessions.map((s) => (
                    <tr data-session-id={s.sessionId}>
                      <th scope="row" data-label="Session">
                        <a href={`/ui/jobs/${s.sessionId}`}>{s.sessionName}</a>
                      </th>
                      <td data-label="Scaling group">{s.scalingGroup}</td>
                      <td data-label="Status">{s.status}</td>
                      <td data-label="Started" class="nowrap">
                        {formatTime(s.createdAt)}
                      </td>
                      <td data-label="Ended" class="nowrap">
                        {formatTime(s.terminatedAt)}
                      </td>
                      <Figures f={s} />
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        <div class="toolbar">
          {offset > 0 && (
            <a
              href={`/ui${STATS_PATH}?${query}&offset=${
                Math.max(0, offset - PAGE)
              }`}
            >
              Previous sessions
            </a>
          )}
          {more && (
            <a href={`/ui${STATS_PATH}?${query}&offset=${offset + PAGE}`}>
              More sessions
            </a>
          )}
        </div>
      </section>
    </>
  );
};

/** Mounts the page. */
export function mountStats(app: Hono<UiEnv>, ctx: UiContext): void {
  const cost = ctx.deps.cost!;
  app.get(STATS_PATH, async (c) => {
    const from = c.req.query("from")?.trim() ?? "";
    const to = c.req.query("to")?.trim() ?? "";
    const offset = Math.max(0, Math.floor(Number(c.req.query("offset")) || 0));
    let report: UsageReport | undefined;
    let error: string | undefined;
    let status: ContentfulStatusCode = 200;
    if ((from && !DATE.test(from)) || (to && !DATE.test(to))) {
      error = "Dates are days such as 2026-12-01.";
      status = 400;
    } else {
      try {
        report = await cost.usage(callerOf(c), {
          from: from || undefined,
          to: to || undefined,
          limit: PAGE,
          offset,
        });
      } catch (err) {
        const p = toProblem(err);
        if (!p) throw err;
        error = p.msg ?? p.title;
        status = p.status as ContentfulStatusCode;
      }
    }
    // The form shows the range the report covers when none was given.
    const shownFrom = from || report?.days[0]?.date || "";
    const shownTo = to || report?.days.at(-1)?.date || "";
    const query = new URLSearchParams({ from: shownFrom, to: shownTo })
      .toString();
    return render(c, ctx, {
      title: "Statistics and billing",
      active: STATS_PATH,
      page: "stats",
      status,
      styles: ["vendor/uplot.css"],
      scripts: ["vendor/uplot.js", "stats_chart.js"],
      children: (
        <>
          <form class="card range" method="get" action={`/ui${STATS_PATH}`}>
            <div>
              <label for="from">From</label>
              <input id="from" name="from" type="date" value={shownFrom} />
            </div>
            <div>
              <label for="to">To</label>
              <input id="to" name="to" type="date" value={shownTo} />
            </div>
            <button type="submit">Show</button>
          </form>
          {error && <p class="error" role="alert" id="stats-error">{error}</p>}
          {report && <Report r={report} offset={offset} query={query} />}
        </>
      ),
    });
  });
}
