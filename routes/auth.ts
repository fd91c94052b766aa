/**
 * Backend.AI request signing (API.md "Authentication"): parsing the
 * Authorization header and the date, building the string to sign, deriving
 * the signing key, and the middleware that puts the verified keypair on the
 * context. A request without an Authorization header stays anonymous;
 * {@link requireAuth} guards protected routes.
 *
 * Uses `node:crypto` because its HMAC is synchronous: the hot path does no
 * `await` for crypto, and derived keys are cached per (hash, secret, day, host).
 *
 * @module
 */
import { createHash, createHmac } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import type { GatewayEnv } from "./context.ts";
import type { KeypairDeps } from "../actors/manager/port/mod.ts";
import {
  AuthFailed,
  InsufficientPrivilege,
  InvalidAuthParams,
} from "./problems.ts";
import { originalMethod } from "./override.ts";
import { requestVersion } from "./version.ts";

/** The parts of a Backend.AI Authorization header. */
export interface AuthorizationParams {
  /** "BackendAI" or the legacy "Sorna". */
  typeWord: string;
  /** e.g. "HMAC-SHA256". */
  signMethod: string;
  accessKey: string;
  signature: string;
}

/**
 * Parses `BackendAI signMethod=HMAC-SHA256, credential=AK:SIG`: split on the
 * first space, parameters on `,` then the first `=`, credential on the first `:`.
 * @throws {InvalidAuthParams} on any malformed part.
 */
export function parseAuthorization(header: string): AuthorizationParams {
  const sp = header.indexOf(" ");
  if (sp < 0) throw new InvalidAuthParams("Malformed authorization header");
  const typeWord = header.slice(0, sp);
  if (typeWord !== "BackendAI" && typeWord !== "Sorna") {
    throw new InvalidAuthParams("Invalid authorization type name");
  }
  const params = new Map<string, string>();
  for (const piece of header.slice(sp + 1).split(",")) {
    const eq = piece.indexOf("=");
    if (eq < 0) {
      throw new InvalidAuthParams("Malformed authorization parameters");
    }
    params.set(piece.slice(0, eq).trim(), piece.slice(eq + 1).trim());
  }
  const signMethod = params.get("signMethod");
  const credential = params.get("credential");
  const colon = credential?.indexOf(":") ?? -1;
  if (!signMethod || !credential || colon < 0) {
    throw new InvalidAuthParams("Missing credential or signature");
  }
  const accessKey = credential.slice(0, colon);
  if (!ACCESS_KEY.test(accessKey)) {
    throw new InvalidAuthParams("Malformed access key in the credential");
  }
  return {
    typeWord,
    signMethod,
    accessKey,
    signature: credential.slice(colon + 1),
  };
}

/**
 * What an access key may look like: 1–64 printable ASCII characters other
 * than `/` (keys name actors, `keypair/AK`), `:` (the credential separator),
 * `,` and `=` (header syntax). Stored keys are 20 characters; a wider shape
 * still reaches the look-up and fails there as an unknown key (401).
 */
export const ACCESS_KEY = /^[!-+\--.0-9;<>-~]{1,64}$/;

/** A parsed request date: the instant, and `YYYYMMDD` in the header's own zone. */
export interface RequestDate {
  epochMs: number;
  ymd: string;
}

const ISO_DATE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;
const RFC1123_DATE =
  /^(?:[A-Za-z]{3},\s*)?(\d{1,2})[ -]([A-Za-z]{3})[ -](\d{2,4}) (\d{2}):(\d{2}):(\d{2}) (GMT|UTC|Z|[+-]\d{4})$/;
const MONTHS = [
  "jan",
  "feb",
  "mar",
  "apr",
  "may",
  "jun",
  "jul",
  "aug",
  "sep",
  "oct",
  "nov",
  "dec",
];

function zoneOffsetMinutes(zone: string | undefined): number {
  if (
    !zone || zone === "Z" || zone === "z" || zone === "GMT" || zone === "UTC"
  ) return 0;
  const sign = zone[0] === "-" ? -1 : 1;
  const digits = zone.slice(1).replace(":", "");
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
  return sign * (hours * 60 + minutes);
}

function fromParts(
  y: number,
  mo: number,
  d: number,
  h: number,
  mi: number,
  s: number,
  ms: number,
  offsetMin: number,
): RequestDate | undefined {
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) {
    return undefined;
  }
  const epochMs = Date.UTC(y, mo - 1, d, h, mi, s, ms) - offsetMin * 60_000;
  if (!Number.isFinite(epochMs)) return undefined;
  const ymd = String(y).padStart(4, "0") + String(mo).padStart(2, "0") +
    String(d).padStart(2, "0");
  return { epochMs, ymd };
}

/**
 * Parses ISO 8601 (with or without fraction, `Z`, `±HH:MM`, or no zone =
 * UTC) and RFC 1123 dates. Returns `undefined` for anything else.
 */
export function parseRequestDate(raw: string): RequestDate | undefined {
  const value = raw.trim();
  let m = ISO_DATE.exec(value);
  if (m) {
    const frac = m[7] ? Number((m[7] + "000").slice(0, 3)) : 0;
    return fromParts(
      Number(m[1]),
      Number(m[2]),
      Number(m[3]),
      Number(m[4] ?? 0),
      Number(m[5] ?? 0),
      Number(m[6] ?? 0),
      frac,
      zoneOffsetMinutes(m[8]),
    );
  }
  m = RFC1123_DATE.exec(value);
  if (m) {
    const month = MONTHS.indexOf(m[2].toLowerCase()) + 1;
    if (month === 0) return undefined;
    let year = Number(m[3]);
    if (m[3].length === 2) year += year < 70 ? 2000 : 1900;
    return fromParts(
      year,
      month,
      Number(m[1]),
      Number(m[4]),
      Number(m[5]),
      Number(m[6]),
      0,
      zoneOffsetMinutes(m[7]),
    );
  }
  return undefined;
}

/** Everything that goes into the string to sign. */
export interface SignatureInput {
  method: string;
  /** Raw request target: path and `?query` exactly as received. */
  target: string;
  /** Raw date header value. */
  date: string;
  /** Host header, port included. */
  host: string;
  /** Lower-cased, parameters stripped; `application/octet-stream` when absent. */
  contentType: string;
  /** `x-backendai-version` or `x-sorna-version`. */
  versionHeaderName: string;
  version: string;
  /** Hex digest of the body (of empty bytes for versions ≥ v4.20181215). */
  bodyHash: string;
}

/** Joins the string to sign (API.md), lines separated by `\n`. */
export function stringToSign(i: SignatureInput): string {
  return `${i.method.toUpperCase()}\n${i.target}\n${i.date}\nhost:${i.host}\ncontent-type:${i.contentType}\n${i.versionHeaderName}:${i.version}\n${i.bodyHash}`;
}

/** The content type as signed: lower-cased, no parameters, default octet-stream. */
export function signedContentType(header: string | null): string {
  if (!header) return "application/octet-stream";
  const semi = header.indexOf(";");
  return (semi < 0 ? header : header.slice(0, semi)).trim().toLowerCase();
}

const SUPPORTED_HASHES = new Set([
  "sha1",
  "sha224",
  "sha256",
  "sha384",
  "sha512",
]);

/**
 * Derived signing keys, cached per (hash, secret, day, host): derivation is
 * two HMACs that change once a day, so the hot path does one HMAC.
 */
export class SigningKeyCache {
  #keys = new Map<string, Uint8Array>();
  constructor(readonly maxEntries = 10_000) {}

  /** `k2 = HMAC(HMAC(secret, ymd), host)`. */
  derive(hash: string, secret: string, ymd: string, host: string): Uint8Array {
    const id = `${hash}\u0000${ymd}\u0000${host}\u0000${secret}`;
    let key = this.#keys.get(id);
    if (!key) {
      const k1 = createHmac(hash, secret).update(ymd).digest();
      key = createHmac(hash, k1).update(host).digest();
      if (this.#keys.size >= this.maxEntries) this.#keys.clear();
      this.#keys.set(id, key);
    }
    return key;
  }
}

/**
 * Signatures verified lately, with what they were verified over (the key's
 * secret, the hash, the whole string to sign): the same three give the
 * same HMAC, so a request repeating them needs no new HMAC. A client that
 * reuses a signature (within the date's allowed skew, which is checked on
 * every request before this) costs a map look-up instead of ~6 µs.
 * Bounded: emptied when full.
 */
export class VerifiedSignatures {
  #seen = new Set<string>();
  constructor(readonly maxEntries = 4096) {}

  #key(hash: string, secret: string, input: SignatureInput, sig: string) {
    return `${sig}\u0000${hash}\u0000${secret}\u0000${stringToSign(input)}`;
  }

  /** Whether `sig` was verified before over exactly these inputs. */
  has(hash: string, secret: string, input: SignatureInput, sig: string) {
    return this.#seen.has(this.#key(hash, secret, input, sig));
  }

  /** Records a signature that verified. */
  add(hash: string, secret: string, input: SignatureInput, sig: string) {
    if (this.#seen.size >= this.maxEntries) this.#seen.clear();
    this.#seen.add(this.#key(hash, secret, input, sig));
  }
}

/** Hex HMAC of the string to sign with the derived key. */
export function computeSignature(
  cache: SigningKeyCache,
  hash: string,
  secret: string,
  ymd: string,
  input: SignatureInput,
): string {
  const key = cache.derive(hash, secret, ymd, input.host);
  return createHmac(hash, key).update(stringToSign(input)).digest("hex");
}

/**
 * Constant-time comparison of two hex strings (time depends only on the
 * expected length, never on where they differ).
 */
function sameHex(expected: string, given: string): boolean {
  let diff = expected.length ^ given.length;
  for (let i = 0; i < expected.length; i++) {
    diff |= expected.charCodeAt(i) ^
      (i < given.length ? given.charCodeAt(i) : 0);
  }
  return diff === 0;
}

const EMPTY_HASHES = new Map<string, string>();
function emptyHash(hash: string): string {
  let h = EMPTY_HASHES.get(hash);
  if (!h) {
    EMPTY_HASHES.set(
      hash,
      h = createHash(hash).update(new Uint8Array()).digest("hex"),
    );
  }
  return h;
}

/** Options of {@link authenticate}. */
export interface AuthOptions {
  /** Allowed distance between the request date and now, exclusive. @default {900_000} */
  clockSkewMs?: number;
  /** Clock, for tests. @default {Date.now} */
  now?: () => number;
}

/**
 * Verifies a signed request and sets `keypair` on the context; passes an
 * unsigned one through as anonymous. Must run after body.ts (pre-v4.20181215
 * signatures cover the body) and after versionCheck.
 */
export function authenticate(
  keypairs: KeypairDeps,
  options: AuthOptions = {},
): MiddlewareHandler<GatewayEnv> {
  const skew = options.clockSkewMs ?? 15 * 60_000;
  const now = options.now ?? Date.now;
  const cache = new SigningKeyCache();
  const verified = new VerifiedSignatures();
  return async (c, next) => {
    const headers = c.req.raw.headers;
    const authorization = headers.get("authorization");
    if (authorization === null) return await next();
    const params = parseAuthorization(authorization);

    const rawDate = headers.get("date") ?? headers.get("x-backendai-date") ??
      headers.get("x-sorna-date");
    const date = rawDate === null ? undefined : parseRequestDate(rawDate);
    if (rawDate === null || !date || Math.abs(now() - date.epochMs) >= skew) {
      throw new InvalidAuthParams("Date/time sync error");
    }
    const [mac, hash] = params.signMethod.toLowerCase().split("-", 2);
    if (mac !== "hmac" || !hash || !SUPPORTED_HASHES.has(hash)) {
      throw new InvalidAuthParams("Unsupported request signing method");
    }
    const version = requestVersion(headers);
    if (!version) {
      throw new InvalidAuthParams("API version missing in request headers");
    }

    const keypair = await keypairs.lookup(params.accessKey);
    if (!keypair) throw new AuthFailed("Access key not found");

    const contentType = signedContentType(headers.get("content-type"));
    let bodyHash = emptyHash(hash);
    if (
      version.value < "v4.20181215" && contentType !== "multipart/form-data"
    ) {
      bodyHash = createHash(hash).update(c.get("body")).digest("hex");
    }
    const url = c.req.url;
    const input: SignatureInput = {
      method: c.req.method,
      target: url.slice(url.indexOf("/", url.indexOf("//") + 2)),
      date: rawDate,
      host: headers.get("host") ?? "",
      contentType,
      versionHeaderName: version.name,
      version: version.value,
      bodyHash,
    };
    const primary =
      verified.has(hash, keypair.secretKey, input, params.signature) ||
      sameHex(
        computeSignature(cache, hash, keypair.secretKey, date.ymd, input),
        params.signature,
      );
    let ok = primary;
    // Tolerated alternatives, each still a valid HMAC by the key's owner:
    // the pre-override method, and octet-stream for WebSocket upgrades.
    const original = originalMethod(c.req.raw);
    if (!ok && original) {
      ok = sameHex(
        computeSignature(cache, hash, keypair.secretKey, date.ymd, {
          ...input,
          method: original,
        }),
        params.signature,
      );
    }
    if (!ok && headers.get("upgrade")?.toLowerCase() === "websocket") {
      const alt = { ...input, contentType: "application/octet-stream" };
      ok = sameHex(
        computeSignature(cache, hash, keypair.secretKey, date.ymd, alt),
        params.signature,
      );
    }
    if (!ok) throw new AuthFailed("Signature mismatch");
    if (primary) verified.add(hash, keypair.secretKey, input, params.signature);
    // Told only to the key's owner (the signature checked): a deactivated
    // key is not a typo, and its owner should know which it is.
    if (!keypair.isActive) throw new AuthFailed("Access key is inactive");
    c.set("keypair", keypair);
    await next();
  };
}

/** Guards a protected route: anonymous → 401 auth-failed. */
export function requireAuth(): MiddlewareHandler<GatewayEnv> {
  return async (c, next) => {
    if (!c.get("keypair")) throw new AuthFailed("Credential required");
    await next();
  };
}

/** Guards an admin route: anonymous → 401, user keypair → 403 insufficient-privilege. */
export function requireAdmin(): MiddlewareHandler<GatewayEnv> {
  return async (c, next) => {
    const kp = c.get("keypair");
    if (!kp) throw new AuthFailed("Credential required");
    if (!kp.isAdmin) throw new InsufficientPrivilege("Admin keypair required");
    await next();
  };
}
