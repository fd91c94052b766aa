/**
 * `createGateway(deps)`: the Hono app of the public API (API.md), assembled
 * from one module per concern. Serve it with `serveGateway` (serve.ts):
 * `Deno.serve` drops the GET bodies the Python SDK sends (README.md here).
 *
 * Middleware order (outermost first): response stamping (`Server`,
 * `X-RateLimit-*`) → path check (input.ts: no NUL) → version check → body read under the size limit →
 * signature check → rate limit → routes. One error handler turns every
 * failure into problem+json; unexpected ones are logged and answered with a
 * bare 500 (no stack leaves the process).
 *
 * @module
 */
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { TrieRouter } from "hono/router/trie-router";
import { mountAdmin } from "./admin.ts";
import { authenticate } from "./auth.ts";
import { type BodyLimits, bodyReader, readLimited } from "./body.ts";
import { mountConfig } from "./config.ts";
import { mountCost } from "./cost.ts";
import type { GatewayEnv } from "./context.ts";
import type { GatewayDeps } from "../actors/manager/port/mod.ts";
import { mountEvents } from "./events.ts";
import { mountExecute } from "./execute.ts";
import { mountFiles } from "./files.ts";
import { mountFolders } from "./folders.ts";
import { mountGraphql } from "./graphql/mod.ts";
import { cleanPath } from "./input.ts";
import { applyMethodOverride } from "./override.ts";
import { ProblemError, problemResponse, toProblem } from "./problems.ts";
import { rateLimit, setRateLimitHeaders } from "./rate_limit.ts";
import { mountSessions } from "./session.ts";
import { mountStream } from "./stream.ts";
import { mountPty } from "./pty.ts";
import { mountTcpProxy } from "./tcpproxy.ts";
import { mountAppProxy, mountAppTokens } from "./app_proxy/mod.ts";
import type { AppOrigin } from "./app_proxy/origin.ts";
import { mountUi } from "./ui/mod.ts";
import { mountVersion, versionCheck } from "./version.ts";
import { mountMetrics, observeRequests } from "./telemetry.ts";
import type { Registry } from "../actors/telemetry/mod.ts";

/** Options of {@link createGateway}. */
export interface GatewayOptions {
  /** Bytes allowed in a JSON request body. @default {1048576} */
  jsonBodyLimit?: number;
  /** Bytes allowed in an upload body. @default {67108864} */
  uploadBodyLimit?: number;
  /** Requests per 900 s for keypairs without their own limit. @default {1000} */
  defaultRateLimit?: number;
  /** Allowed request-date skew, exclusive. @default {900000} */
  clockSkewMs?: number;
  /** Clock (ms) for date checks and rate limiting. @default {Date.now} */
  now?: () => number;
  /** Where unexpected failures are reported. @default {console.error} */
  logError?: (msg: string, err: unknown) => void;
  /**
   * A last chance to name a failure no handler mapped (the manager's store
   * errors: a refused value, the database away, a full disk): return an
   * error carrying a `problemType` (problems.ts), else undefined for a 500.
   * @default {() => undefined}
   */
  explainError?: (err: unknown) => unknown;
  /**
   * Telemetry (telemetry.ts): problem responses and refusals counted in
   * `registry`, a server span per request when tracing is on, and with
   * `metricsToken` a `GET /metrics` for `Authorization: Bearer TOKEN`.
   * @default {none}
   */
  telemetry?: { registry: Registry; metricsToken?: string };
  /** Where the app proxy serves session apps (app_proxy/origin.ts). @default {{ kind: "same" }} */
  appProxyOrigin?: AppOrigin;
}

const DEFAULTS = {
  jsonBodyLimit: 1 << 20,
  uploadBodyLimit: 64 << 20,
  defaultRateLimit: 1000,
  clockSkewMs: 15 * 60_000,
  now: Date.now,
  logError: (msg: string, err: unknown) =>
    console.error(`gateway: ${msg}`, err),
  explainError: () => undefined,
} satisfies Omit<Required<GatewayOptions>, "telemetry" | "appProxyOrigin">;

const OVERRIDE_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/** Builds the gateway app over the manager boundary `deps`. */
export function createGateway(
  deps: GatewayDeps,
  options: GatewayOptions = {},
): Hono<GatewayEnv> {
  const opts = { ...DEFAULTS, ...options } satisfies Omit<
    Required<GatewayOptions>,
    "telemetry" | "appProxyOrigin"
  >;
  const limits: BodyLimits = {
    jsonBodyLimit: opts.jsonBodyLimit,
    uploadBodyLimit: opts.uploadBodyLimit,
  };
  const app = new Hono<GatewayEnv>();
  // Outermost, so every request is counted and traced, `/ui` included.
  const telemetry = opts.telemetry;
  if (telemetry) {
    app.use("*", observeRequests(telemetry.registry));
    if (telemetry.metricsToken) {
      mountMetrics(app, telemetry.registry, telemetry.metricsToken);
    }
  }
  // First, so `/ui` (cookie sessions, its own CSRF and limits) never meets the API's middleware.
  mountUi(app, deps, { appOrigin: options.appProxyOrigin });
  // Also in front: browsers reach apps by token cookie, never by signature.
  mountAppProxy(app, deps, { origin: options.appProxyOrigin });

  app.use("*", async (c, next) => {
    await next();
    const res = c.res;
    if (res.status === 101) return;
    res.headers.set("Server", "BackendAI");
    setRateLimitHeaders(res.headers, c.get("rateLimit"));
  });
  app.use("*", cleanPath());
  app.use("*", versionCheck());
  app.use("*", bodyReader(limits));
  app.use(
    "*",
    authenticate(deps.keypairs, {
      clockSkewMs: opts.clockSkewMs,
      now: opts.now,
    }),
  );
  app.use(
    "*",
    rateLimit(deps.keypairs, {
      defaultRateLimit: opts.defaultRateLimit,
      now: opts.now,
    }),
  );

  mountCost(app, deps); // first: its cost-warning header wraps every route
  mountVersion(app, deps.version);
  mountConfig(app, deps);
  mountSessions(app, deps);
  mountExecute(app, deps);
  mountFiles(app, deps);
  mountFolders(app, deps);
  mountStream(app, deps, opts.logError);
  mountPty(app, deps, opts.logError);
  mountTcpProxy(app, deps, opts.logError);
  mountAppTokens(app, deps, { origin: options.appProxyOrigin });
  mountEvents(app, deps);
  mountAdmin(app, deps);
  mountGraphql(app, deps, opts.logError);

  // 404 vs 405: a path some other method would have matched is 405.
  let routesOnly: TrieRouter<true> | undefined;
  const allowedMethods = (path: string): string[] => {
    if (!routesOnly) {
      routesOnly = new TrieRouter<true>();
      for (const r of app.routes) {
        if (r.method !== "ALL") routesOnly.add(r.method, r.path, true);
      }
    }
    const router = routesOnly;
    return OVERRIDE_METHODS.filter((m) => router.match(m, path)[0].length > 0);
  };
  app.notFound((c) => {
    const allow = allowedMethods(c.req.path);
    const problem = allow.length > 0
      ? new ProblemError("method-not-allowed", {
        headers: { Allow: allow.join(", ") },
      })
      : new ProblemError("url-not-found");
    return problemResponse(problem);
  });

  app.onError((err) => {
    const problem = toProblem(err) ?? toProblem(opts.explainError(err));
    if (problem) return problemResponse(problem);
    if (err instanceof HTTPException && err.status < 500) {
      return problemResponse(
        new ProblemError("generic-bad-request", { msg: err.message }),
      );
    }
    opts.logError("unexpected failure", err);
    return problemResponse(new ProblemError("internal-server-error"));
  });

  // X-Method-Override must act before routing, so it wraps the entry point.
  const dispatch = app.fetch;
  const uploadPath = /\/upload$/;
  app.fetch = async (req, env, ctx) => {
    if (!req.headers.has("x-method-override")) return dispatch(req, env, ctx);
    try {
      const limit = uploadPath.test(new URL(req.url).pathname)
        ? limits.uploadBodyLimit
        : limits.jsonBodyLimit;
      const routed = await applyMethodOverride(
        req,
        (r) => readLimited(r, limit),
      );
      return dispatch(routed, env, ctx);
    } catch (err) {
      const problem = toProblem(err) ??
        new ProblemError("internal-server-error");
      const res = problemResponse(problem);
      res.headers.set("Server", "BackendAI");
      setRateLimitHeaders(res.headers, undefined);
      return res;
    }
  };
  return app;
}
