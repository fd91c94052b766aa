/**
 * Cross-site request forgery defences of the dashboard, on every request
 * that is not GET or HEAD:
 *
 * 1. Origin check: the `Origin` header (else `Referer`) must name this
 *    host; a request with neither is refused. Browsers send `Origin` on
 *    every POST, so only forged or non-browser requests lack it.
 * 2. A token: the form field `_csrf` or the `X-CSRF-Token` header must
 *    equal the web session's token (or, before sign-in, the token of the
 *    pre-session cookie the sign-in page set), compared in constant time.
 *
 * The session cookie is also `SameSite=Strict`, so a cross-site request
 * carries no session at all; the two checks above hold even where that
 * attribute is not honoured.
 *
 * @module
 */
import { timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import type { UiEnv } from "./env.ts";
import { renderProblemPage } from "./errors.tsx";

/** Name of the form field carrying the token. */
export const CSRF_FIELD = "_csrf";
/** Name of the header carrying the token (islands' fetch calls). */
export const CSRF_HEADER = "x-csrf-token";
/** Cookie holding the sign-in form's token before there is a session. */
export const PRE_SESSION_COOKIE = "bai_ui_pre";

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

/** Whether the request says it comes from a page of this host. */
export function sameOrigin(c: Context): boolean {
  const host = c.req.header("host");
  const from = c.req.header("origin") ?? c.req.header("referer");
  if (!host || !from || from === "null") return false;
  try {
    return new URL(from).host === host;
  } catch {
    return false;
  }
}

function equalTokens(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  return x.byteLength === y.byteLength && x.byteLength > 0 &&
    timingSafeEqual(x, y);
}

/** The token a request carries (header first, then the form field). */
async function sentToken(c: Context): Promise<string | undefined> {
  const header = c.req.header(CSRF_HEADER);
  if (header) return header;
  const type = c.req.header("content-type") ?? "";
  if (
    !type.startsWith("application/x-www-form-urlencoded") &&
    !type.startsWith("multipart/form-data")
  ) return undefined;
  try {
    const v = (await c.req.parseBody())[CSRF_FIELD];
    return typeof v === "string" ? v : undefined;
  } catch {
    return undefined; // a malformed body carries no token
  }
}

/** Refuses unsafe requests without a same-origin source and a valid token (403). */
export function csrfGuard(): MiddlewareHandler<UiEnv> {
  return async (c, next) => {
    if (SAFE.has(c.req.method)) return await next();
    if (!sameOrigin(c)) {
      return renderProblemPage(c, 403, {
        title: "Request refused",
        detail:
          "This request did not come from a page of this dashboard. Reload the page and try again.",
      });
    }
    const sent = await sentToken(c);
    const expected = [
      c.get("web")?.csrfToken,
      getCookie(c, PRE_SESSION_COOKIE),
    ].filter((t): t is string => typeof t === "string" && t.length > 0);
    if (!sent || !expected.some((t) => equalTokens(sent, t))) {
      return renderProblemPage(c, 403, {
        title: "Request refused",
        detail:
          "This request lacks its security token. Reload the page and try again.",
      });
    }
    await next();
  };
}
