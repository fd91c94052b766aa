/**
 * One session: its facts and cost so far (live from the event stream), a
 * live usage plot (uPlot, fed by the stream's usage samples), a terminal
 * and its service ports (job_tools.tsx), the files in its work dir, a
 * small code console, its container logs, suspend / resume and stop.
 *
 * Everything a kernel or a user produced (names, file names, output,
 * `html` console items) is shown as text.
 *
 * @module
 */
// Server-rendered only: keys matter to client-side diffing, and in
// precompile mode they would be printed as HTML attributes.
// deno-lint-ignore-file jsx-key
import type { Context, Hono } from "hono";
import type { FC } from "hono/jsx";
import type { UiContext, UiDeps, UiEnv } from "../env.ts";
import type {
  Caller,
  ConsoleItem,
  JobView,
  KernelUsage,
} from "../../../actors/manager/port/mod.ts";
import { isEnded } from "../../../actors/manager/lifecycle.ts";
import {
  ageOf,
  PauseForm,
  slotsOf,
  StatusBadge,
  StopForm,
  usageText,
} from "../components/jobs.tsx";
import { formatBytes, formatConfiguration, formatTime } from "../format.ts";
import { CSRF_FIELD } from "../csrf.ts";
import { fragment, render } from "../render.tsx";
import { callerOf } from "../web_session.ts";
import { toProblem } from "../../problems.ts";
import { JOBS_PATH } from "./jobs.tsx";
import { AppLinks, TerminalPanel } from "./job_tools.tsx";
import { costText, sessionCosts } from "../costs.ts";

/** A fresh nonce for this response's `<style>` elements (headers.ts). */
function randomNonce(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...b));
}

/** Longest a console run waits for its output before showing what it has. */
const RUN_WAIT_MS = 30_000;
/** Largest code a console run takes. */
const MAX_CODE = 64 * 1024;
/** Images the console shows inline; anything else is named, not shown. */
const INLINE_IMAGES = new Set(["image/png", "image/jpeg", "image/gif"]);

const Facts: FC<{ job: JobView; usage?: KernelUsage; cost: string }> = (
  { job, usage, cost },
) => {
  const u = usageText(job, usage);
  const live = !isEnded(job.status);
  const id = job.sessionId;
  return (
    <dl
      class="facts"
      id="job-facts"
      data-status={job.status}
      data-ended={live ? undefined : "1"}
    >
      <dt>Status</dt>
      <dd>
        <StatusBadge status={job.status} />
        {job.statusInfo && <span class="reason">{job.statusInfo}</span>}
      </dd>
      <dt>Session ID</dt>
      <dd>
        <code>{id}</code>
      </dd>
      <dt>Image</dt>
      <dd>{job.image}</dd>
      <dt>Type</dt>
      <dd>{job.type}</dd>
      <dt>Started</dt>
      <dd>
        <time datetime={job.createdAt}>{formatTime(job.createdAt)}</time>
      </dd>
      <dt>Age</dt>
      <dd>
        <span data-age-of={live ? id : undefined}>
          {ageOf(job, Date.now())}
        </span>
      </dd>
      {job.terminatedAt && (
        <>
          <dt>Ended</dt>
          <dd>{formatTime(job.terminatedAt)}</dd>
        </>
      )}
      <dt>Configuration</dt>
      <dd>{formatConfiguration(slotsOf(job))}</dd>
      <dt>Scaling group</dt>
      <dd>{job.scalingGroup}</dd>
      <dt>CPU time</dt>
      <dd>
        <span data-cpu-of={live ? id : undefined}>{u.cpu}</span>
      </dd>
      <dt>Memory</dt>
      <dd>
        <span data-mem-of={live ? id : undefined}>{u.mem}</span>
      </dd>
      <dt>Cost so far</dt>
      <dd>
        <span data-cost-of={live ? id : undefined}>{cost}</span>
      </dd>
    </dl>
  );
};

/** Console output as text; `html` items too (never as markup). */
const Output: FC<{ items: ConsoleItem[]; note?: string }> = (p) => (
  <section aria-labelledby="out-h" class="card">
    <h2 id="out-h">Output</h2>
    {p.note && <p class="note" role="status">{p.note}</p>}
    <div id="run-output">
      {p.items.length === 0 && <p class="empty">No output.</p>}
      {p.items.map(([kind, data]) => {
        if (kind === "media" && Array.isArray(data)) {
          const [mime, b64] = data as [unknown, unknown];
          if (
            typeof mime === "string" && INLINE_IMAGES.has(mime) &&
            typeof b64 === "string" && /^[A-Za-z0-9+/=\s]*$/.test(b64)
          ) {
            return (
              <img alt="Image output" src={`data:${mime};base64,${b64}`} />
            );
          }
          return <p class="note">[{String(mime)} output not shown]</p>;
        }
        const text = typeof data === "string" ? data : JSON.stringify(data);
        return (
          <pre class={`out ${kind === "stderr" ? "stderr" : ""}`}>{text}</pre>
        );
      })}
    </div>
  </section>
);

interface FileItem {
  name: string;
  type: string;
  size: number;
}

async function filesOf(
  deps: UiDeps,
  caller: Caller,
  id: string,
): Promise<FileItem[] | undefined> {
  try {
    const r = await deps.sessions.listFiles(caller, id, ".");
    const raw = typeof r.files === "string" ? JSON.parse(r.files) : r.files;
    if (!Array.isArray(raw)) return undefined;
    return raw.map((f: Record<string, unknown>) => ({
      name: String(f.name ?? f.filename ?? "?"),
      type: String(
        f.type ?? (String(f.mode ?? "").startsWith("d") ? "dir" : "file"),
      ),
      size: Number(f.size ?? 0),
    }));
  } catch {
    return undefined; // the kernel could not list it now
  }
}

interface DetailExtras {
  code?: string;
  output?: ConsoleItem[];
  note?: string;
  logs?: string;
}

async function detailPage(
  c: Context<UiEnv>,
  ctx: UiContext,
  id: string,
  extras: DetailExtras = {},
) {
  const caller = callerOf(c);
  const web = ctx.deps.web;
  const job = await web.job(caller, id);
  const running = job.status === "RUNNING";
  const [usage, files, costs, apps] = await Promise.all([
    running
      ? web.usage(caller).then((all) => all.find((u) => u.sessionId === id))
      : Promise.resolve(undefined),
    running ? filesOf(ctx.deps, caller, id) : Promise.resolve(undefined),
    sessionCosts(ctx.deps.cost, caller, [job]),
    running && ctx.deps.channels
      ? ctx.deps.channels.apps(caller, id).catch(() => [])
      : Promise.resolve([]),
  ]);
  const csrf = c.get("web")!.csrfToken;
  const terminal = running && ctx.deps.channels !== undefined;
  if (terminal) c.set("styleNonce", randomNonce());
  return render(c, ctx, {
    title: job.sessionName,
    active: JOBS_PATH,
    page: "job",
    live: true,
    styles: ["vendor/uplot.css", ...(terminal ? ["vendor/xterm.css"] : [])],
    scripts: [
      "vendor/uplot.js",
      "usage_chart.js",
      ...(terminal
        ? ["vendor/xterm.js", "vendor/xterm-fit.js", "terminal.js"]
        : []),
    ],
    children: (
      <div data-session-id={id} id="job">
        <div class="toolbar">
          <a href="/ui/jobs">All jobs</a>
          <a href={`/ui/jobs/${id}/logs`}>Logs</a>
          <PauseForm job={job} csrf={csrf} back={`/ui/jobs/${id}`} />
          {!isEnded(job.status) && (
            <StopForm job={job} csrf={csrf} back={`/ui/jobs/${id}`} />
          )}
        </div>
        <Facts job={job} usage={usage} cost={costText(costs, id)} />
        <AppLinks job={job} apps={apps} csrf={csrf} />
        {terminal && <TerminalPanel job={job} />}
        {running && (
          <section aria-labelledby="chart-h" class="card">
            <h2 id="chart-h">Live usage</h2>
            <p class="note">
              CPU in cores and memory in MB while this page is open.
            </p>
            <div
              id="usage-chart"
              role="img"
              aria-label="Live CPU and memory use"
            >
            </div>
          </section>
        )}
        {running && (
          <form class="card" method="post" action={`/ui/jobs/${id}/run`}>
            <h2>Run code</h2>
            <input type="hidden" name={CSRF_FIELD} value={csrf} />
            <label for="code">Code</label>
            <textarea
              id="code"
              name="code"
              rows={5}
              required
              spellcheck={false}
            >
              {extras.code ?? ""}
            </textarea>
            <button type="submit">Run</button>
          </form>
        )}
        {extras.output && <Output items={extras.output} note={extras.note} />}
        {extras.logs !== undefined && (
          <section class="card" aria-labelledby="logs-h">
            <h2 id="logs-h">Logs</h2>
            <pre class="out" id="logs">{extras.logs}</pre>
          </section>
        )}
        {files && (
          <section class="card" aria-labelledby="files-h">
            <h2 id="files-h">Files in the work directory</h2>
            {files.length === 0
              ? <p class="empty">No files.</p>
              : (
                <ul class="files" id="files">
                  {files.map((f) => (
                    <li>
                      <span class="fname">{f.name}</span>
                      <span class="fmeta">
                        {f.type === "dir" ? "folder" : formatBytes(f.size)}
                      </span>
                    </li>
                  ))}
                </ul>
              )}
          </section>
        )}
      </div>
    ),
  });
}

/** Runs `code` in the session, following `continued` replies for a while. */
async function runCode(
  deps: UiDeps,
  caller: Caller,
  id: string,
  code: string,
): Promise<{ items: ConsoleItem[]; note?: string }> {
  const runId = crypto.randomUUID().replaceAll("-", "").slice(0, 16);
  const items: ConsoleItem[] = [];
  const deadline = Date.now() + RUN_WAIT_MS;
  let r = await deps.sessions.execute(caller, id, {
    mode: "query",
    code,
    runId,
    options: {},
  });
  items.push(...r.console);
  while (r.status === "continued" && Date.now() < deadline) {
    r = await deps.sessions.execute(caller, id, {
      mode: "continue",
      code: "",
      runId,
      options: {},
    });
    items.push(...r.console);
  }
  if (r.status === "waiting-input") {
    await deps.sessions.interrupt(caller, id).catch(() => {});
    return {
      items,
      note:
        "The program asked for input, which this console cannot give; it was interrupted.",
    };
  }
  if (r.status === "continued") {
    return { items, note: "Still running; this is the output so far." };
  }
  if (r.status === "exec-timeout") {
    return { items, note: "The run passed its time limit." };
  }
  return {
    items,
    note: r.exitCode ? `Finished with exit code ${r.exitCode}.` : undefined,
  };
}

/** Mounts the session page, its live facts fragment, the console and logs. */
export function mountJob(app: Hono<UiEnv>, ctx: UiContext): void {
  app.get(`${JOBS_PATH}/:id`, (c) => detailPage(c, ctx, c.req.param("id")));

  app.get(`${JOBS_PATH}/:id/facts`, async (c) => {
    const caller = callerOf(c);
    const job = await ctx.deps.web.job(caller, c.req.param("id"));
    const [usage, costs] = await Promise.all([
      job.status === "RUNNING"
        ? ctx.deps.web.usage(caller).then((all) =>
          all.find((u) => u.sessionId === job.sessionId)
        )
        : undefined,
      sessionCosts(ctx.deps.cost, caller, [job]),
    ]);
    return fragment(
      c,
      <Facts job={job} usage={usage} cost={costText(costs, job.sessionId)} />,
    );
  });

  app.post(`${JOBS_PATH}/:id/run`, async (c) => {
    const caller = callerOf(c);
    const id = c.req.param("id");
    await ctx.deps.web.job(caller, id);
    const form = await c.req.parseBody();
    const code = typeof form.code === "string" ? form.code : "";
    if (code.length > MAX_CODE) {
      return detailPage(c, ctx, id, {
        code: "",
        output: [],
        note: `The code is longer than ${MAX_CODE / 1024} KiB.`,
      });
    }
    try {
      const r = await runCode(ctx.deps, caller, id, code);
      return detailPage(c, ctx, id, { code, output: r.items, note: r.note });
    } catch (err) {
      const p = toProblem(err);
      if (!p) throw err;
      return detailPage(c, ctx, id, {
        code,
        output: [],
        note: p.msg ?? p.title,
      });
    }
  });

  app.get(`${JOBS_PATH}/:id/logs`, async (c) => {
    const caller = callerOf(c);
    const id = c.req.param("id");
    await ctx.deps.web.job(caller, id);
    let logs: string;
    try {
      logs = await ctx.deps.sessions.logs(caller, id);
    } catch (err) {
      const p = toProblem(err);
      if (!p) throw err;
      logs = `(no logs: ${p.msg ?? p.title})`;
    }
    return detailPage(c, ctx, id, { logs });
  });
}
