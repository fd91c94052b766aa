/**
 * The cookie session of the dashboard. Signing in exchanges an access key
 * and secret key, once, for a random token the manager stores only as a
 * hash (port `WebSessionDeps`); the browser holds the token in an
 * `HttpOnly; SameSite=Strict` cookie (`Secure` over https), so no script,
 * page or storage ever holds the secret key or the token.
 *
 * {@link loadWebSession} resolves the cookie on each request and puts the
 * session, the keypair and the {@link Caller} on the context; a keypair
 * deactivated since sign-in counts as signed out. {@link requireSignIn}
 * sends a signed-out browser to the sign-in page; {@link requireAdmin}
 * answers 403 to a user keypair.
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { Caller } from "../../actors/manager/port/mod.ts";
import type { UiContext, UiEnv } from "./env.ts";
import { renderProblemPage } from "./errors.tsx";

/** Name of the session cookie. */
export const SESSION_COOKIE = "bai_ui";
/** Cookies are sent only to the dashboard's paths. */
export const COOKIE_PATH = "/ui";

/** Whether the browser reached us over https (directly or through a TLS proxy). */
export function isHttps(c: Context): boolean {
  return new URL(c.req.url).protocol === "https:" ||
    c.req.header("x-forwarded-proto") === "https";
}

/** Sets a dashboard cookie with the attributes every one of ours has. */
export function setUiCookie(
  c: Context,
  name: string,
  value: string,
  maxAgeMs: number,
): void {
  setCookie(c, name, value, {
    path: COOKIE_PATH,
    httpOnly: true,
    sameSite: "Strict",
    secure: isHttps(c),
    maxAge: Math.max(1, Math.floor(maxAgeMs / 1000)),
  });
}

/** Removes a dashboard cookie. */
export function clearUiCookie(c: Context, name: string): void {
  deleteCookie(c, name, {
    path: COOKIE_PATH,
    secure: isHttps(c),
    httpOnly: true,
    sameSite: "Strict",
  });
}

/** The session token the browser sent, if any. */
export function sessionToken(c: Context): string | undefined {
  return getCookie(c, SESSION_COOKIE) || undefined;
}

/** Resolves the session cookie into `web`, `keypair` and `caller`. */
export function loadWebSession(ctx: UiContext): MiddlewareHandler<UiEnv> {
  return async (c, next) => {
    const token = sessionToken(c);
    if (token) {
      const web = await ctx.deps.web.webSessions.find(
        token,
        ctx.settings.idleMs,
      );
      const kp = web && await ctx.deps.keypairs.lookup(web.accessKey);
      if (web && kp?.isActive) {
        const caller: Caller = {
          accessKey: kp.accessKey,
          requester: kp.accessKey,
          isAdmin: kp.isAdmin,
        };
        c.set("web", web);
        c.set("keypair", kp);
        c.set("caller", caller);
      }
    }
    await next();
  };
}

/** Where a signed-out browser may be sent back to after sign-in. */
const NEXT_PATH = /^\/ui(?:\/[A-Za-z0-9/_.-]*)?$/;

/** A safe `next` target (a dashboard path), else the Summary. */
export function safeNext(next: unknown): string {
  return typeof next === "string" && NEXT_PATH.test(next) &&
      !next.includes("//") && !next.includes("..")
    ? next
    : "/ui";
}

/**
 * Pages need a signed-in browser: a page load is sent to the sign-in page
 * (303, with `next`), anything else answered 401.
 */
export function requireSignIn(): MiddlewareHandler<UiEnv> {
  return async (c, next) => {
    if (c.get("caller")) return await next();
    const wantsPage = c.req.method === "GET" &&
      (c.req.header("accept") ?? "").includes("text/html");
    if (wantsPage) {
      const target = safeNext(c.req.path);
      const q = target === "/ui" ? "" : `?next=${encodeURIComponent(target)}`;
      return c.redirect(`/ui/signin${q}`, 303);
    }
    return renderProblemPage(c, 401, {
      title: "Signed out",
      detail: "Sign in to use the dashboard.",
    });
  };
}

/** Operator pages: a user keypair gets 403. */
export function requireAdmin(): MiddlewareHandler<UiEnv> {
  return async (c, next) => {
    if (c.get("caller")?.isAdmin) return await next();
    return renderProblemPage(c, 403, {
      title: "Operators only",
      detail: "This page is for admin keypairs.",
    });
  };
}

/** The signed-in caller (after {@link requireSignIn}). */
export function callerOf(c: Context<UiEnv>): Caller {
  const caller = c.get("caller");
  if (!caller) throw new Error("callerOf before requireSignIn");
  return caller;
}
