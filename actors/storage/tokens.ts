/**
 * Upload and download tokens: short-lived, for one folder and one path,
 * signed with HMAC-SHA256 under a key derived from the cluster secret (the
 * storage node both makes and checks them; the manager only hands them
 * out after checking that the caller owns the folder). A token names its
 * storage node, host, folder and path, so it opens nothing else.
 *
 * Format: `base64url(JSON claims) "." base64url(HMAC)`.
 *
 * @module
 */

import { z } from "zod";
import { fromBase64Url, toBase64Url } from "../protocol/base64.ts";

/** What a token allows. */
export const TokenClaims = z.object({
  v: z.literal(1),
  op: z.enum(["upload", "download"]),
  /** Storage node id. */
  node: z.string(),
  host: z.string(),
  folderId: z.string(),
  /** Path inside the folder, as the client named it. */
  path: z.string(),
  /** The tus upload it may write (upload tokens). */
  upload: z.string().optional(),
  size: z.number().optional(),
  /** Expiry, ms since the epoch. */
  exp: z.number(),
});
export type TokenClaims = z.infer<typeof TokenClaims>;

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Signs and checks tokens with one key. */
export class TokenSigner {
  private constructor(readonly key: CryptoKey) {}

  /** A signer whose key is derived from the cluster secret (never the secret itself). */
  static async fromSecret(secret: string): Promise<TokenSigner> {
    const base = await crypto.subtle.importKey(
      "raw",
      enc.encode(secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    const derived = await crypto.subtle.sign(
      "HMAC",
      base,
      enc.encode("bai-storage-token/v1"),
    );
    return new TokenSigner(
      await crypto.subtle.importKey(
        "raw",
        derived,
        { name: "HMAC", hash: "SHA-256" },
        false,
        ["sign", "verify"],
      ),
    );
  }

  async sign(claims: TokenClaims): Promise<string> {
    const body = toBase64Url(
      enc.encode(JSON.stringify(TokenClaims.parse(claims))),
    );
    const sig = await crypto.subtle.sign("HMAC", this.key, enc.encode(body));
    return `${body}.${toBase64Url(new Uint8Array(sig))}`;
  }

  /**
   * The claims of a valid, unexpired token for `op`, or null (bad format,
   * bad signature, expired, other op). Comparison is the platform's
   * constant-time `verify`.
   */
  async verify(
    token: string | null | undefined,
    op: TokenClaims["op"],
    now = Date.now(),
  ): Promise<TokenClaims | null> {
    if (!token || token.length > 4096) return null;
    const dot = token.indexOf(".");
    if (dot <= 0) return null;
    const body = token.slice(0, dot);
    const sig = fromBase64Url(token.slice(dot + 1));
    if (!sig) return null;
    const ok = await crypto.subtle.verify(
      "HMAC",
      this.key,
      sig,
      enc.encode(body),
    );
    if (!ok) return null;
    const raw = fromBase64Url(body);
    if (!raw) return null;
    let parsed: unknown;
    try {
      parsed = JSON.parse(dec.decode(raw));
    } catch {
      return null;
    }
    const claims = TokenClaims.safeParse(parsed);
    if (!claims.success) return null;
    if (claims.data.op !== op || claims.data.exp < now) return null;
    return claims.data;
  }
}
