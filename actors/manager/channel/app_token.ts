/**
 * Tokens of the browser app proxy (a browser cannot sign requests): an
 * HMAC-SHA256 over what they grant (keypair, session, app, expiry, and
 * whether it is the short-lived link token or the cookie the proxy trades
 * it for), keyed by a key derived from the cluster secret, so they survive
 * a manager restart and nothing is stored. A token opens only its own
 * session's app for its own keypair, and only until it expires.
 *
 * @example
 * ```ts
 * import { AppTokens } from "./app_token.ts";
 * const tokens = new AppTokens("cluster-secret");
 * const t = tokens.sign({ accessKey: "AK", sessionId: "S", app: "jupyter", expiresAt: Date.now() + 60_000, use: "url" });
 * tokens.verify(t)?.app; // "jupyter"
 * tokens.verify(t + "x"); // undefined
 * ```
 *
 * @module
 */

import { createHmac, timingSafeEqual } from "node:crypto";
import type { AppGrant } from "../port/channels.ts";
import { fromBase64Url, toBase64Url } from "../../protocol/base64.ts";

/** Default life of a link token (seconds). */
export const LINK_TOKEN_TTL_S = 300;
/** Longest a caller may ask for (seconds). */
export const MAX_LINK_TOKEN_TTL_S = 3600;
/** Life of the proxy's cookie (seconds): a working day; the session's end ends it sooner. */
export const COOKIE_TOKEN_TTL_S = 12 * 3600;

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Signs and checks app proxy tokens. */
export class AppTokens {
  readonly #key: Buffer;

  constructor(secret: string) {
    // A key of its own: a token is never a valid signature of anything else.
    this.#key = createHmac("sha256", secret).update("bai app proxy token v1")
      .digest();
  }

  sign(grant: AppGrant): string {
    const body = toBase64Url(enc.encode(JSON.stringify({
      a: grant.accessKey,
      s: grant.sessionId,
      p: grant.app,
      e: grant.expiresAt,
      u: grant.use,
    })));
    return `${body}.${toBase64Url(this.#mac(body))}`;
  }

  /** The grant, or undefined when the token is malformed, forged or expired at `now`. */
  verify(token: string, now = Date.now()): AppGrant | undefined {
    if (typeof token !== "string" || token.length > 1024) return undefined;
    const dot = token.indexOf(".");
    if (dot < 1) return undefined;
    const body = token.slice(0, dot);
    const mac = fromBase64Url(token.slice(dot + 1));
    const want = this.#mac(body);
    if (!mac || mac.byteLength !== want.byteLength) return undefined;
    if (!timingSafeEqual(mac, want)) return undefined;
    let g: Record<string, unknown>;
    try {
      g = JSON.parse(dec.decode(fromBase64Url(body)));
    } catch {
      return undefined;
    }
    if (
      typeof g.a !== "string" || typeof g.s !== "string" ||
      typeof g.p !== "string" || typeof g.e !== "number" ||
      (g.u !== "url" && g.u !== "cookie")
    ) return undefined;
    if (g.e <= now) return undefined;
    return {
      accessKey: g.a,
      sessionId: g.s,
      app: g.p,
      expiresAt: g.e,
      use: g.u,
    };
  }

  #mac(body: string): Uint8Array {
    return createHmac("sha256", this.#key).update(body).digest();
  }
}
