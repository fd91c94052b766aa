/**
 * Sign-in and sign-out. `POST /ui/signin` checks the access key and
 * secret key once (constant-time, through the same keypair look-up the
 * API's signature check uses), opens a web session and sets its cookie;
 * the secret key is never written back into a page. Failures are counted
 * per client address and per key (signin_limiter.ts) and answered alike,
 * whichever part was wrong. `POST /ui/signout` ends the session.
 *
 * @module
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { Context, Hono } from "hono";
import type { UiContext, UiEnv } from "../env.ts";
import { CSRF_FIELD, PRE_SESSION_COOKIE } from "../csrf.ts";
import { render } from "../render.tsx";
import { peerAddress } from "../../peer.ts";
import {
  clearUiCookie,
  safeNext,
  SESSION_COOKIE,
  sessionToken,
  setUiCookie,
} from "../web_session.ts";

/** How long the sign-in form's token is good for. */
const PRE_SESSION_MS = 60 * 60_000;

function randomToken(): string {
  const b = crypto.getRandomValues(new Uint8Array(24));
  return btoa(String.fromCharCode(...b)).replace(
    /[+/=]/g,
    (ch) => ch === "+" ? "-" : ch === "/" ? "_" : "",
  );
}

function sameSecret(given: string, actual: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(actual).digest();
  return timingSafeEqual(a, b) && given.length === actual.length;
}

interface FormState {
  accessKey?: string;
  error?: string;
  next?: string;
}

function signinPage(
  c: Context<UiEnv>,
  ctx: UiContext,
  state: FormState,
  status: 200 | 401 | 429 = 200,
) {
  const token = randomToken();
  setUiCookie(c, PRE_SESSION_COOKIE, token, PRE_SESSION_MS);
  return render(c, ctx, {
    title: "Sign in",
    page: "signin",
    status,
    children: (
      <form class="card narrow" method="post" action="/ui/signin">
        <p>
          Sign in with your keypair: the access key and secret key you use with
          the API and CLI. The secret key is checked once and not kept in the
          browser.
        </p>
        {state.error && (
          <p class="error" role="alert" id="signin-error">{state.error}</p>
        )}
        <input type="hidden" name={CSRF_FIELD} value={token} />
        <input type="hidden" name="next" value={safeNext(state.next)} />
        <label for="accessKey">Access key</label>
        <input
          id="accessKey"
          name="accessKey"
          autocomplete="username"
          required
          maxlength={64}
          spellcheck={false}
          autocapitalize="off"
          autofocus
          value={state.accessKey ?? ""}
          aria-describedby={state.error ? "signin-error" : undefined}
        />
        <label for="secretKey">Secret key</label>
        <input
          id="secretKey"
          name="secretKey"
          type="password"
          autocomplete="current-password"
          required
          maxlength={128}
        />
        <button type="submit">Sign in</button>
      </form>
    ),
  });
}

/** Mounts `GET|POST /signin` and `POST /signout` (public). */
export function mountSignin(app: Hono<UiEnv>, ctx: UiContext): void {
  app.get("/signin", (c) => {
    if (c.get("caller")) return c.redirect(safeNext(c.req.query("next")), 303);
    return signinPage(c, ctx, { next: c.req.query("next") });
  });

  app.post("/signin", async (c) => {
    const form = await c.req.parseBody();
    const accessKey = typeof form.accessKey === "string"
      ? form.accessKey.trim().slice(0, 64)
      : "";
    const secretKey = typeof form.secretKey === "string"
      ? form.secretKey.slice(0, 128)
      : "";
    const next = typeof form.next === "string" ? form.next : undefined;
    const address = peerAddress(c.req.raw, c.env);
    const verdict = ctx.limiter.check(address, accessKey);
    if (!verdict.allowed) {
      c.header("Retry-After", String(Math.ceil(verdict.retryAfterMs / 1000)));
      return signinPage(c, ctx, {
        accessKey,
        next,
        error: `Too many failed sign-ins. Try again in ${
          Math.ceil(verdict.retryAfterMs / 60_000)
        } min.`,
      }, 429);
    }
    const kp = accessKey && secretKey
      ? await ctx.deps.keypairs.lookup(accessKey)
      : undefined;
    // Compared even when the key is unknown, so both failures take alike.
    const ok = sameSecret(secretKey, kp?.secretKey ?? "\0") &&
      kp !== undefined && kp.isActive;
    if (!ok) {
      ctx.limiter.failed(address, accessKey);
      return signinPage(c, ctx, {
        accessKey,
        next,
        error: "Wrong access key or secret key.",
      }, 401);
    }
    ctx.limiter.succeeded(accessKey);
    const old = sessionToken(c);
    if (old) await ctx.deps.web.webSessions.close(old);
    const opened = await ctx.deps.web.webSessions.open(kp.accessKey, {
      idleMs: ctx.settings.idleMs,
      maxAgeMs: ctx.settings.maxAgeMs,
      userAgent: c.req.header("user-agent"),
    });
    setUiCookie(c, SESSION_COOKIE, opened.token, ctx.settings.maxAgeMs);
    clearUiCookie(c, PRE_SESSION_COOKIE);
    return c.redirect(safeNext(next), 303);
  });

  app.post("/signout", async (c) => {
    const token = sessionToken(c);
    if (token) await ctx.deps.web.webSessions.close(token);
    clearUiCookie(c, SESSION_COOKIE);
    return c.redirect("/ui/signin", 303);
  });
}
