/**
 * What a session page opens besides its facts: a terminal (xterm.js over
 * a cookie-authenticated WebSocket under `/ui`), its service ports
 * (Jupyter and others, through the manager's app proxy with a short-lived
 * link token), and suspend / resume.
 *
 * - `GET /ui/jobs/{id}/terminal` (WebSocket): the cookie's web session and
 *   an `Origin` of this host are both required (a WebSocket is a GET, so
 *   the CSRF token check does not cover it, and browsers let any site open
 *   one: the Origin check is what stops another site's page from using
 *   the cookie); then the port's pty channel is relayed exactly as
 *   `/stream/session/{ref}/pty` relays it (routes/pty.ts).
 * - `POST /ui/jobs/{id}/apps/{app}`: issues a link token through the
 *   port's `issueAppToken` for the cookie's keypair and answers 303 to the
 *   proxy's URL; the proxy trades it for its own app-scoped cookie.
 * - `POST /ui/jobs/{id}/suspend|resume`: the port's session activity.
 *
 * @module
 */
import type { Hono } from "hono";
import type { FC } from "hono/jsx";
import type { UiContext, UiEnv } from "../env.ts";
import type { AppListing, JobView } from "../../../actors/manager/port/mod.ts";
import { CSRF_FIELD, sameOrigin } from "../csrf.ts";
import { renderProblemPage } from "../errors.tsx";
import { callerOf, safeNext } from "../web_session.ts";
import { ptyResponse } from "../../pty.ts";
import { appProxyUrl } from "../../app_proxy/mod.ts";
import { appOriginFor } from "../../app_proxy/origin.ts";
import { toProblem } from "../../problems.ts";
import { JOBS_PATH } from "./jobs.tsx";

/** Seconds a link token from the dashboard is valid (it is used at once). */
const APP_LINK_TTL_S = 60;

/** Words for a service port's button. */
function appLabel(name: string): string {
  if (name === "jupyter") return "Open Jupyter";
  if (name === "jupyterlab") return "Open JupyterLab";
  return `Open ${name}`;
}

/** The terminal card of a running session (the island is static/terminal.js). */
export const TerminalPanel: FC<{ job: JobView }> = ({ job }) => (
  <section class="card" aria-labelledby="term-h">
    <h2 id="term-h">Terminal</h2>
    <p class="note">
      A shell in the session's container. While the terminal has the focus, keys
      (Tab too) go to the shell; click outside it to leave.
    </p>
    <div class="toolbar">
      <button type="button" id="terminal-open">Open terminal</button>
      <span id="terminal-status" role="status" aria-live="polite" />
    </div>
    <div
      id="terminal"
      class="terminal"
      data-socket={`/ui${JOBS_PATH}/${job.sessionId}/terminal`}
      aria-label={`Terminal of ${job.sessionName}`}
      role="region"
    />
  </section>
);

/** Buttons opening the session's http service ports through the app proxy. */
export const AppLinks: FC<
  { job: JobView; apps: AppListing[]; csrf: string }
> = (p) => {
  const http = p.apps.filter((a) => a.protocol === "http");
  if (http.length === 0) return null;
  return (
    <section class="card" aria-labelledby="apps-h">
      <h2 id="apps-h">Service ports</h2>
      <div class="toolbar" id="apps">
        {http.map((a) => (
          <form
            method="post"
            target="_blank"
            action={`/ui${JOBS_PATH}/${p.job.sessionId}/apps/${
              encodeURIComponent(a.name)
            }`}
          >
            <input type="hidden" name={CSRF_FIELD} value={p.csrf} />
            <button type="submit" data-app={a.name}>{appLabel(a.name)}</button>
          </form>
        ))}
      </div>
      <p class="note">
        Opens in a new tab through the manager's proxy; the link is valid for a
        minute, the app's own cookie for longer.
      </p>
    </section>
  );
};

/** Initial terminal size from `rows`/`cols`, when both are sane. */
function sizeOf(
  rows?: string,
  cols?: string,
): { rows?: number; cols?: number } {
  const r = Number(rows), c = Number(cols);
  const ok = (n: number) => Number.isInteger(n) && n >= 1 && n <= 1000;
  return ok(r) && ok(c) ? { rows: r, cols: c } : {};
}

/** Mounts the terminal socket, app links, suspend and resume. */
export function mountJobTools(app: Hono<UiEnv>, ctx: UiContext): void {
  const deps = ctx.deps;

  if (deps.channels) {
    app.get(`${JOBS_PATH}/:id/terminal`, async (c) => {
      if (!sameOrigin(c)) {
        return renderProblemPage(c, 403, {
          title: "Request refused",
          detail: "A terminal opens only from a page of this dashboard.",
        });
      }
      const caller = callerOf(c);
      // One of the caller's own sessions (an admin's cookie opens only its own here).
      const job = await deps.web.job(caller, c.req.param("id"));
      return await ptyResponse(
        c.req.raw,
        deps,
        { ...caller, isAdmin: false },
        job.sessionId,
        ctx.settings.logError,
        sizeOf(c.req.query("rows"), c.req.query("cols")),
      );
    });

    app.post(`${JOBS_PATH}/:id/apps/:app`, async (c) => {
      const caller = callerOf(c);
      const job = await deps.web.job(caller, c.req.param("id"));
      const t = await deps.channels!.issueAppToken(
        { ...caller, isAdmin: false },
        job.sessionId,
        c.req.param("app"),
        APP_LINK_TTL_S,
      );
      // On the apps' own origin (a port or host of their own): an app's
      // scripts then cannot reach this dashboard's pages or cookie session.
      const origin = appOriginFor(ctx.settings.appOrigin, new URL(c.req.url));
      return c.redirect(appProxyUrl(origin, t), 303);
    });
  }

  const activity = deps.activity;
  if (activity) {
    for (const action of ["suspend", "resume"] as const) {
      app.post(`${JOBS_PATH}/:id/${action}`, async (c) => {
        const caller = callerOf(c);
        const job = await deps.web.job(caller, c.req.param("id"));
        const form = await c.req.parseBody();
        try {
          await activity[action](caller, job.sessionId);
        } catch (err) {
          const p = toProblem(err);
          if (!p) throw err;
          return renderProblemPage(c, p.status as 400, {
            title: action === "suspend" ? "Not suspended" : "Not resumed",
            detail: p.msg ?? p.title,
          });
        }
        return c.redirect(safeNext(form.next), 303);
      });
    }
  }
}
