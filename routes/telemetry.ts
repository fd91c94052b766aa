/**
 * The gateway's telemetry: {@link observeRequests} counts problem
 * responses by type and rate-limit refusals, and (with tracing on, see
 * actors/telemetry) makes the server span of each request — continuing
 * the caller's trace from an incoming `traceparent` header — so every
 * actor the request reaches adds its spans below it.
 * {@link mountMetrics} answers `GET /metrics` on the API port to a bearer
 * token (Prometheus cannot sign requests with a keypair).
 *
 * @module
 */
import type { Hono, MiddlewareHandler } from "hono";
import type { GatewayEnv } from "./context.ts";
import { AuthFailed, problemTypeOf } from "./problems.ts";
import {
  metricsResponse,
  type Registry,
  sameSecret,
  TRACING,
  truncateId,
  withSpan,
} from "../actors/telemetry/mod.ts";

/** Counts problems and refusals in `registry`, and traces requests when tracing is on. */
export function observeRequests(
  registry: Registry,
): MiddlewareHandler<GatewayEnv> {
  const problems = registry.counter("bai_api_problems_total", {
    help: "Problem (application/problem+json) responses by problem type.",
    labels: ["type"],
    maxSeries: 64,
  });
  const refusals = registry.counter("bai_rate_limit_refusals_total", {
    help: "Requests refused by a keypair's rate limit (429).",
  });
  const count = (res: Response) => {
    if (res.status < 400) return undefined;
    const type = problemTypeOf(res) ??
      (res.headers.get("content-type")?.startsWith("application/problem+json")
        ? "unknown"
        : undefined);
    if (type === undefined) return undefined;
    problems.inc({ type });
    if (type === "rate-limit-exceeded") refusals.inc();
    return type;
  };
  if (!TRACING) {
    return async (c, next) => {
      await next();
      count(c.res);
    };
  }
  return async (c, next) => {
    const method = c.req.method;
    const url = new URL(c.req.url);
    await withSpan(method, {
      "http.request.method": method,
      "url.path": url.pathname,
      "url.scheme": url.protocol.slice(0, -1),
    }, async (span) => {
      await next();
      const res = c.res;
      const route = c.req.routePath;
      // Named `{method} {route}` (OpenTelemetry's HTTP conventions); "/*"
      // is this middleware's own pattern: no route matched.
      if (route !== "/*") span.rename(`${method} ${route}`);
      const kp = c.get("keypair");
      span.set({
        "http.route": route,
        "http.response.status_code": res.status,
        "bai.access_key": kp ? truncateId(kp.accessKey) : undefined,
        "bai.api_version": c.get("apiVersion"),
      });
      const type = count(res);
      if (type !== undefined) span.set({ "error.type": type });
      if (res.status >= 500) {
        span.error(new Error(`${res.status} ${type ?? "server error"}`));
      }
    }, {
      kind: "server",
      // A request without one starts a trace of its own.
      parent: c.req.header("traceparent") ?? null,
    });
  };
}

/**
 * `GET /metrics` on the API port for `Authorization: Bearer TOKEN`
 * (401 auth-failed otherwise, as problem+json). Mount it before the
 * signature check, which would refuse a bearer header.
 */
export function mountMetrics(
  app: Hono<GatewayEnv>,
  registry: Registry,
  token: string,
): void {
  app.get("/metrics", (c) => {
    const m = /^Bearer (.+)$/i.exec(c.req.header("authorization") ?? "");
    if (!m || !sameSecret(m[1], token)) {
      throw new AuthFailed("Metrics need Authorization: Bearer METRICS_TOKEN.");
    }
    return metricsResponse(c.req.raw, registry);
  });
}
