/**
 * Response headers of every dashboard reply. The Content-Security-Policy
 * allows scripts and styles from this origin only and no inline script or
 * style at all, so even a value that escaped escaping could not run:
 * islands are static files (assets.ts), never inline.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";

/** The dashboard's Content-Security-Policy. */
export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

const FIXED: Record<string, string> = {
  "Content-Security-Policy": CSP,
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "same-origin",
  "X-Frame-Options": "DENY",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
};

/** Stamps the security headers; pages are not cached unless they say so. */
export function securityHeaders(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const h = c.res.headers;
    for (const [k, v] of Object.entries(FIXED)) h.set(k, v);
    if (!h.has("Cache-Control")) h.set("Cache-Control", "no-store");
  };
}
