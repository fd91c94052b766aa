/**
 * A metrics listener: `GET /metrics` answering a {@link Registry}'s text
 * exposition, and nothing else (404 for other paths, 405 for other
 * methods). Meant for a port of its own on loopback (or a private
 * network), scraped anonymously; with `token` set it asks for
 * `Authorization: Bearer TOKEN` as well.
 *
 * @module
 */

import { PROMETHEUS_CONTENT_TYPE, type Registry } from "./registry.ts";

/** Options of {@link serveMetrics}. */
export interface ServeMetricsOptions {
  /** 0 picks a free port. */
  port: number;
  /** @default {"127.0.0.1"} */
  hostname?: string;
  /** When set, requests must carry `Authorization: Bearer <token>`. */
  token?: string;
}

/** A running metrics listener. */
export interface MetricsServer {
  hostname: string;
  port: number;
  shutdown(): Promise<void>;
}

/** Constant-time comparison of two strings (a bearer token). */
export function sameSecret(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  }
  return diff === 0;
}

/** Answers one request for the exposition (shared by every listener of it). */
export async function metricsResponse(
  req: Request,
  registry: Registry,
  token?: string,
): Promise<Response> {
  if (req.method !== "GET" && req.method !== "HEAD") {
    return new Response("method not allowed\n", {
      status: 405,
      headers: { Allow: "GET, HEAD" },
    });
  }
  if (token !== undefined) {
    const auth = req.headers.get("authorization") ?? "";
    const m = /^Bearer (.+)$/i.exec(auth);
    if (!m || !sameSecret(m[1], token)) {
      return new Response("unauthorized\n", {
        status: 401,
        headers: { "WWW-Authenticate": 'Bearer realm="metrics"' },
      });
    }
  }
  const body = await registry.render();
  return new Response(req.method === "HEAD" ? null : body, {
    headers: { "Content-Type": PROMETHEUS_CONTENT_TYPE },
  });
}

/** Serves `registry` at `GET /metrics` on `hostname:port`. */
export function serveMetrics(
  registry: Registry,
  options: ServeMetricsOptions,
): Promise<MetricsServer> {
  const hostname = options.hostname ?? "127.0.0.1";
  const { promise, resolve } = Promise.withResolvers<MetricsServer>();
  const server = Deno.serve({
    hostname,
    port: options.port,
    onListen: (addr) =>
      resolve({
        hostname,
        port: addr.port,
        shutdown: () => server.shutdown(),
      }),
  }, (req) => {
    if (new URL(req.url).pathname !== "/metrics") {
      return new Response("not found: try /metrics\n", { status: 404 });
    }
    return metricsResponse(req, registry, options.token);
  });
  return promise;
}
