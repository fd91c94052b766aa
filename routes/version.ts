/**
 * API versions (API.md "Versions"): the list of versions we accept, the
 * middleware rejecting others, and `GET /`.
 *
 * @module
 */
import type { Hono, MiddlewareHandler } from "hono";
import type { GatewayEnv } from "./context.ts";
import { ProblemError } from "./problems.ts";

/** The version `GET /` advertises; clients pick `/session` paths from its major 6. */
export const API_VERSION = "v6.20220315";

/** Every version a client may send in `X-BackendAI-Version` / `X-Sorna-Version`. */
export const SUPPORTED_VERSIONS: ReadonlySet<string> = new Set([
  "v4.20181215",
  "v4.20190115",
  "v4.20190315",
  "v4.20190615",
  "v5.20191215",
  "v6.20200815",
  "v6.20210815",
  "v6.20220315",
]);

/** The version header's value, preferring the current name over the legacy one. */
export function requestVersion(
  headers: Headers,
): { name: string; value: string } | undefined {
  const value = headers.get("x-backendai-version");
  if (value !== null) return { name: "x-backendai-version", value };
  const legacy = headers.get("x-sorna-version");
  if (legacy !== null) return { name: "x-sorna-version", value: legacy };
  return undefined;
}

/**
 * Rejects an unsupported version with 400 generic-bad-request. A request
 * without any version header passes (e.g. `curl /`); auth.ts requires one
 * for signed requests since it is part of the string to sign.
 */
export function versionCheck(): MiddlewareHandler<GatewayEnv> {
  return async (c, next) => {
    const v = requestVersion(c.req.raw.headers);
    if (v) {
      if (!SUPPORTED_VERSIONS.has(v.value)) {
        throw new ProblemError("generic-bad-request", {
          msg: "Unsupported API version.",
        });
      }
      c.set("apiVersion", v.value);
    }
    await next();
  };
}

/** Mounts `GET /` (public). */
export function mountVersion(
  app: Hono<GatewayEnv>,
  managerVersion: string,
): void {
  const body = JSON.stringify({
    version: API_VERSION,
    manager: managerVersion,
  });
  app.get(
    "/",
    (c) => c.body(body, 200, { "Content-Type": "application/json" }),
  );
}
