/**
 * The web dashboard at `/ui`: server-rendered pages (Hono JSX) with small
 * islands in static files, signed in by a cookie session, acting for the
 * signed-in keypair through the same port as the REST API.
 *
 * Middleware order (outermost first): security headers (CSP) → body size
 * limit → static assets (no session look-up) → web session from the
 * cookie → CSRF (Origin + token on every non-GET) → sign-in / sign-out →
 * signed-in guard → operator guard on `/admin/*` → the pages of
 * pages/mod.ts and the live stream → an HTML 404 for anything else.
 *
 * It is mounted in front of the API's middleware (routes/app.ts) and
 * answers every `/ui` path itself, so the API's version check, signature
 * check and rate limit never see dashboard requests, and the API never
 * sees a cookie.
 *
 * @module
 */
import { type AppOrigin, appOriginFor } from "../app_proxy/origin.ts";
import { type Env, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { GatewayDeps } from "../../actors/manager/port/mod.ts";
import { assetResponse } from "./assets.ts";
import { csrfGuard } from "./csrf.ts";
import type { UiContext, UiDeps, UiEnv, UiSettings } from "./env.ts";
import { errorPage, renderProblemPage } from "./errors.tsx";
import { mountLiveEvents } from "./events.ts";
import { securityHeaders } from "./headers.ts";
import { navFor, PAGES } from "./pages/mod.ts";
import { mountSignin } from "./pages/signin.tsx";
import { SigninLimiter, type SigninLimiterOptions } from "./signin_limiter.ts";
import { storageOrigins } from "./storage_origins.ts";
import { loadWebSession, requireAdmin, requireSignIn } from "./web_session.ts";

/** Options of {@link createUi}. */
export interface UiOptions extends Partial<UiSettings> {
  /** Failed sign-in limits. */
  signin?: SigninLimiterOptions;
  /** Bytes a form post may carry. @default {262144} */
  bodyLimit?: number;
}

const DEFAULTS = {
  idleMs: 2 * 60 * 60_000,
  maxAgeMs: 12 * 60 * 60_000,
  usageIntervalMs: 3000,
  recentJobs: 20,
  storageOriginsMs: 10_000,
  appOrigin: { kind: "same" } as AppOrigin,
  logError: (msg: string, err: unknown) => console.error(msg, err),
} satisfies UiSettings;

/** Where the dashboard lives. */
export const UI_PREFIX = "/ui";

/** Builds the dashboard app (paths relative to `/ui`). */
export function createUi(deps: UiDeps, options: UiOptions = {}): Hono<UiEnv> {
  const { signin, bodyLimit: maxBody, appOrigin, ...rest } = options;
  const settings = {
    ...DEFAULTS,
    ...rest,
    appOrigin: appOrigin ?? DEFAULTS.appOrigin,
  } satisfies UiSettings;
  const ctx: UiContext = {
    deps,
    settings,
    limiter: new SigninLimiter(signin),
    nav: navFor(deps),
  };
  const origins = storageOrigins(deps.web, settings.storageOriginsMs);
  const ui = new Hono<UiEnv>();
  ui.use(
    "*",
    securityHeaders({
      connectOrigins: origins.current,
      // "Open <app>" redirects a form post to the apps' own origin.
      formOrigins: (url) => [appOriginFor(settings.appOrigin, url)],
    }),
  );
  ui.use("*", async (c, next) => {
    c.set("nav", ctx.nav);
    // Known before the page renders, so an upload page can reach its node.
    if (deps.folders) await origins.fresh();
    await next();
  });
  ui.use(
    "*",
    bodyLimit({
      maxSize: maxBody ?? 256 * 1024,
      onError: (c) =>
        renderProblemPage(c, 413, {
          title: "Too large",
          detail: "The form sent more data than the dashboard takes.",
        }),
    }),
  );
  ui.get("/assets/*", (c) => {
    const name = c.req.path.slice(`${UI_PREFIX}/assets/`.length);
    return assetResponse(
      name,
      c.req.query("v"),
      c.req.header("if-none-match"),
    ) ??
      renderProblemPage(c, 404, { title: "Not found" });
  });
  ui.use("*", loadWebSession(ctx));
  ui.use("*", csrfGuard());
  mountSignin(ui, ctx);
  ui.use("*", requireSignIn());
  ui.use("/admin/*", requireAdmin());
  for (const page of PAGES) {
    if (!page.needs || page.needs(deps)) page.mount(ui, ctx);
  }
  mountLiveEvents(ui, ctx);
  ui.all("*", (c) =>
    renderProblemPage(c, 404, {
      title: "Not found",
      detail: "There is no such page.",
    }));
  ui.onError((err, c) => errorPage(err, c, settings.logError));
  return ui;
}

/**
 * Mounts the dashboard at `/ui` on the API app when the port has the
 * dashboard's part. Call it before the API's middleware is added.
 */
export function mountUi<E extends Env>(
  app: Hono<E>,
  deps: GatewayDeps,
  options?: UiOptions,
): void {
  if (!deps.web) return;
  app.route(UI_PREFIX, createUi(deps as UiDeps, options));
}
