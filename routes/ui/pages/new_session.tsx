/**
 * The New session form: image, CPU cores, memory and folders to mount,
 * with the cost estimate beside it (components/estimate.tsx), refreshed
 * as a fragment from `GET /new/estimate` whenever a field changes
 * (static/new_session.js, debounced; nothing polls). The submission is
 * checked by the API's own create parser (routes/params.ts: the same name
 * rule and shapes as `POST /session`) and created through the port with
 * the signed-in caller; it does not wait for the kernel, so the browser
 * lands on the session's page at once and watches it start live.
 *
 * @module
 */
import type { Context, Hono } from "hono";
import type { UiContext, UiEnv } from "../env.ts";
import type { ImageChoice } from "../../../actors/manager/port/mod.ts";
import { CSRF_FIELD } from "../csrf.ts";
import { fragment, render } from "../render.tsx";
import {
  estimateFor,
  type EstimateInput,
  EstimatePanel,
} from "../components/estimate.tsx";
import { callerOf } from "../web_session.ts";
import { parseCreateSession } from "../../params.ts";
import { toProblem } from "../../problems.ts";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** Path of the page (nav table). */
export const NEW_SESSION_PATH = "/new";

const GIB = 1024 ** 3;

interface FormValues {
  name: string;
  image: string;
  cpu: string;
  memGb: string;
  mounts: string[];
}

function defaultsFor(images: ImageChoice[], image?: string): FormValues {
  const img = images.find((i) => i.name === image) ?? images[0];
  return {
    name: "",
    image: img?.name ?? "python",
    cpu: String(img?.defaults.cpu ?? 1),
    memGb: String(Number(((img?.defaults.mem ?? GIB) / GIB).toFixed(2))),
    mounts: [],
  };
}

/** Form fields (or query parameters) as the form's values. */
function valuesOf(
  get: (k: string) => unknown,
  all: (k: string) => unknown[],
): FormValues {
  const str = (k: string) => {
    const v = get(k);
    return typeof v === "string" ? v.trim() : "";
  };
  return {
    name: str("name"),
    image: str("image"),
    cpu: str("cpu"),
    memGb: str("mem"),
    mounts: [
      ...new Set(
        all("mounts").filter((m): m is string =>
          typeof m === "string" && m !== ""
        ),
      ),
    ].slice(0, 64),
  };
}

function estimateInput(v: FormValues): EstimateInput {
  return {
    image: v.image,
    cpu: Number(v.cpu),
    mem: Math.round(Number(v.memGb) * GIB),
    mounts: v.mounts,
  };
}

/** The caller's folders to offer as mounts (none without folders). */
async function folderNames(c: Context<UiEnv>, ctx: UiContext) {
  const f = ctx.deps.folders;
  if (!f) return [];
  try {
    return (await f.list(callerOf(c))).map((x) => x.name);
  } catch {
    return [];
  }
}

function generatedName(): string {
  const b = crypto.getRandomValues(new Uint8Array(4));
  return "ui-" + Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

async function formPage(
  c: Context<UiEnv>,
  ctx: UiContext,
  values: FormValues | undefined,
  error?: string,
  status: ContentfulStatusCode = 200,
) {
  const [images, folders] = await Promise.all([
    ctx.deps.web.images(),
    folderNames(c, ctx),
  ]);
  const v = values ?? defaultsFor(images);
  const estimate = await estimateFor(
    ctx.deps,
    callerOf(c),
    estimateInput(v),
    images,
  );
  return render(c, ctx, {
    title: "New session",
    active: NEW_SESSION_PATH,
    page: "new",
    status,
    scripts: ["new_session.js"],
    children: (
      <div class="split">
        <form
          class="card narrow"
          method="post"
          action="/ui/new"
          id="new-session"
          data-estimate="/ui/new/estimate"
        >
          {error && <p class="error" role="alert" id="new-error">{error}</p>}
          <input
            type="hidden"
            name={CSRF_FIELD}
            value={c.get("web")!.csrfToken}
          />
          <label for="name">Session name (optional)</label>
          <input
            id="name"
            name="name"
            value={v.name}
            maxlength={64}
            spellcheck={false}
            autocapitalize="off"
            aria-describedby="name-hint"
            autofocus
          />
          <p class="hint" id="name-hint">
            4 to 64 letters, digits, dots, dashes or underscores; left empty, a
            name is made up.
          </p>
          <label for="image">Image</label>
          <select id="image" name="image" required>
            {images.map((i) => (
              <option value={i.name} selected={i.name === v.image}>
                {i.name}
              </option>
            ))}
          </select>
          <fieldset>
            <legend>Resources</legend>
            <label for="cpu">CPU cores</label>
            <input
              id="cpu"
              name="cpu"
              type="number"
              inputmode="decimal"
              min="0.25"
              max="256"
              step="0.25"
              required
              value={v.cpu}
            />
            <label for="mem">Memory (GB)</label>
            <input
              id="mem"
              name="mem"
              type="number"
              inputmode="decimal"
              min="0.25"
              max="4096"
              step="0.25"
              required
              value={v.memGb}
            />
          </fieldset>
          {folders.length > 0 && (
            <fieldset id="mounts">
              <legend>Mounts</legend>
              <p class="hint" id="mounts-hint">
                Folders to mount under /home/work.
              </p>
              {folders.map((f, i) => (
                <div class="check">
                  <input
                    type="checkbox"
                    id={`mount-${i}`}
                    name="mounts"
                    value={f}
                    checked={v.mounts.includes(f)}
                    aria-describedby="mounts-hint"
                  />
                  <label for={`mount-${i}`}>{f}</label>
                </div>
              ))}
            </fieldset>
          )}
          <button type="submit">Start session</button>
        </form>
        <EstimatePanel v={estimate} />
      </div>
    ),
  });
}

/** Mounts `GET|POST /new`. */
export function mountNewSession(app: Hono<UiEnv>, ctx: UiContext): void {
  app.get(NEW_SESSION_PATH, (c) => formPage(c, ctx, undefined));

  app.get(`${NEW_SESSION_PATH}/estimate`, async (c) => {
    const values = valuesOf(
      (k) => c.req.query(k),
      (k) => c.req.queries(k) ?? [],
    );
    const images = await ctx.deps.web.images();
    return fragment(
      c,
      <EstimatePanel
        v={await estimateFor(
          ctx.deps,
          callerOf(c),
          estimateInput(values),
          images,
        )}
      />,
    );
  });

  app.post(NEW_SESSION_PATH, async (c) => {
    const form = await c.req.parseBody({ all: true });
    const values = valuesOf(
      (k) => [form[k]].flat()[0],
      (k) => [form[k] ?? []].flat(),
    );
    const cpu = Number(values.cpu);
    const memGb = Number(values.memGb);
    if (!(cpu > 0) || !(memGb > 0)) {
      return formPage(
        c,
        ctx,
        values,
        "CPU cores and memory must be positive numbers.",
        400,
      );
    }
    try {
      const { request } = parseCreateSession({
        image: values.image,
        name: values.name || generatedName(),
        type: "interactive",
        enqueueOnly: true,
        reuseIfExists: false,
        config: {
          resources: { cpu, mem: Math.round(memGb * GIB) },
          mounts: values.mounts,
        },
      });
      const created = await ctx.deps.sessions.create(callerOf(c), request);
      return c.redirect(`/ui/jobs/${created.sessionId}`, 303);
    } catch (err) {
      const p = toProblem(err);
      if (!p) throw err;
      const detail = p.problemType === "invalid-api-params" && !p.msg
        ? "Check the session name: 4 to 64 letters, digits, dots, dashes or underscores."
        : p.msg ?? p.title;
      return formPage(
        c,
        ctx,
        values,
        detail,
        p.status as ContentfulStatusCode,
      );
    }
  });
}
