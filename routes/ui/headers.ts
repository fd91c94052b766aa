/**
 * Response headers of every dashboard reply. The Content-Security-Policy
 * allows scripts and styles from this origin only and no inline script or
 * style at all, so even a value that escaped escaping could not run:
 * islands are static files (assets.ts), never inline.
 *
 * Two per-response widenings, both narrow:
 * - `connect-src` adds the storage nodes' origins (uploads and downloads
 *   go straight to a storage node on its own port, by token), as the
 *   manager knows them from their registration: exactly the URLs it hands
 *   out with tickets, so nothing else can be reached.
 * - A page may ask for a style nonce (`c.set("styleNonce")`): xterm.js
 *   builds its cell metrics as `<style>` elements, which the terminal
 *   island stamps with the nonce; markup in the page still cannot style.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import type { UiEnv } from "./env.ts";

/** The parts of the policy that vary per response. */
export interface CspOptions {
  /** Extra origins fetch, XHR and WebSockets may reach (`http://host:port`). */
  connect?: readonly string[];
  /** A nonce `<style>` elements may carry. */
  styleNonce?: string;
  /**
   * Extra origins a form may lead to (a redirect included): the apps'
   * own origin, which "Open Jupyter" redirects to.
   */
  formAction?: readonly string[];
}

/** An origin fit for a CSP source list, or undefined (a path, a wildcard, junk). */
export function cspOrigin(url: string): string | undefined {
  try {
    const u = new URL(url);
    if (u.protocol !== "http:" && u.protocol !== "https:") return undefined;
    return u.origin;
  } catch {
    return undefined;
  }
}

/**
 * The dashboard's Content-Security-Policy.
 *
 * @example
 * ```ts
 * import { contentSecurityPolicy } from "./headers.ts";
 * contentSecurityPolicy({ connect: ["http://127.0.0.1:6021"] });
 * // "... connect-src 'self' http://127.0.0.1:6021; ..."
 * ```
 */
export function contentSecurityPolicy(o: CspOptions = {}): string {
  const connect = [
    "'self'",
    ...new Set(
      (o.connect ?? []).map(cspOrigin).filter((x): x is string => !!x),
    ),
  ];
  const formAction = [
    "'self'",
    ...new Set(
      (o.formAction ?? []).map(cspOrigin).filter((x): x is string => !!x),
    ),
  ];
  const style = o.styleNonce && /^[A-Za-z0-9+/_=-]+$/.test(o.styleNonce)
    ? `style-src 'self' 'nonce-${o.styleNonce}'`
    : "style-src 'self'";
  return [
    "default-src 'none'",
    "script-src 'self'",
    style,
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src ${connect.join(" ")}`,
    `form-action ${formAction.join(" ")}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join("; ");
}

/** The policy of a response that widens nothing. */
export const CSP: string = contentSecurityPolicy();

const FIXED: Record<string, string> = {
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "same-origin",
  "X-Frame-Options": "DENY",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
};

/** Options of {@link securityHeaders}. */
export interface SecurityHeadersOptions {
  /** Origins of the storage nodes now (cached by the caller; must not throw). */
  connectOrigins?: () => readonly string[];
  /** Origins forms may lead to for a request at `url` (the apps' origin). */
  formOrigins?: (url: URL) => readonly string[];
}

/** Stamps the security headers; pages are not cached unless they say so. */
export function securityHeaders(
  o: SecurityHeadersOptions = {},
): MiddlewareHandler<UiEnv> {
  return async (c, next) => {
    await next();
    if (c.res.status === 101) return; // a WebSocket: no document to protect
    const h = c.res.headers;
    h.set(
      "Content-Security-Policy",
      contentSecurityPolicy({
        connect: o.connectOrigins?.() ?? [],
        styleNonce: c.get("styleNonce"),
        formAction: o.formOrigins?.(new URL(c.req.url)) ?? [],
      }),
    );
    for (const [k, v] of Object.entries(FIXED)) h.set(k, v);
    if (!h.has("Cache-Control")) h.set("Cache-Control", "no-store");
  };
}
