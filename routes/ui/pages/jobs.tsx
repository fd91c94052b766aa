/**
 * The Jobs page: the keypair's live sessions and its recent ended ones,
 * with configuration, live usage, cost so far, status and reason, and
 * suspend / resume (job_tools.tsx) and stop controls.
 * Rows update from the event stream (static/app.js asks `/jobs/ID/row`
 * for a changed session); nothing polls.
 *
 * @module
 */
import type { Hono } from "hono";
import type { UiContext, UiEnv } from "../env.ts";
import type { KernelUsage } from "../../../actors/manager/port/mod.ts";
import { isEnded } from "../../../actors/manager/lifecycle.ts";
import { JobHead, JobRow } from "../components/jobs.tsx";
import { fragment, render } from "../render.tsx";
import { callerOf } from "../web_session.ts";
import { toProblem } from "../../problems.ts";
import { safeNext } from "../web_session.ts";
import { costText, sessionCosts } from "../costs.ts";

/** Path of the page (nav table). */
export const JOBS_PATH = "/jobs";

const byId = (usage: KernelUsage[]) =>
  new Map(usage.map((u) => [u.sessionId, u]));

/** Mounts the Jobs list, a row fragment and the stop action. */
export function mountJobs(app: Hono<UiEnv>, ctx: UiContext): void {
  const web = ctx.deps.web;

  app.get(JOBS_PATH, async (c) => {
    const caller = callerOf(c);
    const [jobs, usage] = await Promise.all([
      web.jobs(caller, { recent: ctx.settings.recentJobs }),
      web.usage(caller),
    ]);
    const costs = await sessionCosts(ctx.deps.cost, caller, jobs);
    const u = byId(usage);
    const now = Date.now();
    const csrf = c.get("web")!.csrfToken;
    const live = jobs.filter((j) => !isEnded(j.status));
    const ended = jobs.filter((j) => isEnded(j.status));
    return render(c, ctx, {
      title: "Jobs",
      active: JOBS_PATH,
      page: "jobs",
      live: true,
      children: (
        <>
          <div class="toolbar">
            <a class="button" href="/ui/new">New session</a>
          </div>
          <section aria-labelledby="live-h">
            <h2 id="live-h">Running and waiting</h2>
            <div class="table-wrap">
              <table class="jobs">
                <JobHead />
                <tbody id="jobs-live" data-empty="No running sessions.">
                  {live.map((job) => (
                    <JobRow
                      job={job}
                      usage={u.get(job.sessionId)}
                      now={now}
                      csrf={csrf}
                      cost={costText(costs, job.sessionId)}
                    />
                  ))}
                </tbody>
              </table>
            </div>
            {live.length === 0 && (
              <p class="empty" id="jobs-live-empty">No running sessions.</p>
            )}
          </section>
          <section aria-labelledby="recent-h">
            <h2 id="recent-h">Recently ended</h2>
            <div class="table-wrap">
              <table class="jobs">
                <JobHead />
                <tbody id="jobs-recent">
                  {ended.map((job) => (
                    <JobRow
                      job={job}
                      now={now}
                      csrf={csrf}
                      cost={costText(costs, job.sessionId)}
                    />
                  ))}
                </tbody>
              </table>
            </div>
            {ended.length === 0 && (
              <p class="empty" id="jobs-recent-empty">Nothing ended yet.</p>
            )}
          </section>
        </>
      ),
    });
  });

  app.get(`${JOBS_PATH}/:id/row`, async (c) => {
    const caller = callerOf(c);
    const job = await web.job(caller, c.req.param("id"));
    const [usage, costs] = await Promise.all([
      isEnded(job.status)
        ? undefined
        : web.usage(caller).then((all) =>
          all.find((u) => u.sessionId === job.sessionId)
        ),
      sessionCosts(ctx.deps.cost, caller, [job]),
    ]);
    return fragment(
      c,
      <table>
        <tbody>
          <JobRow
            job={job}
            usage={usage}
            now={Date.now()}
            csrf={c.get("web")!.csrfToken}
            cost={costText(costs, job.sessionId)}
          />
        </tbody>
      </table>,
    );
  });

  app.post(`${JOBS_PATH}/:id/stop`, async (c) => {
    const caller = callerOf(c);
    const id = c.req.param("id");
    // The id must be one of the caller's sessions before anything happens.
    await web.job(caller, id);
    try {
      await ctx.deps.sessions.destroy(caller, id, { forced: false });
    } catch (err) {
      // Ended meanwhile: what the user wanted.
      if (toProblem(err)?.problemType !== "object-not-found") throw err;
    }
    const form = await c.req.parseBody();
    return c.redirect(safeNext(form.next), 303);
  });
}
