/**
 * Backend.AI request signing for our client (API.md "Authentication"):
 * {@link signedFetch} for HTTP calls and {@link openSignedSocket} for the
 * streaming WebSocket. Both sign with HMAC-SHA256 over the empty-body hash
 * (API versions ≥ v4.20181215).
 *
 * A GET (or HEAD) with a body cannot go through `fetch` (it refuses one), so
 * such a request is sent as a POST carrying `X-Method-Override: GET`, the
 * route's documented override (routes/override.ts); the signature covers the
 * method actually sent, which the gateway accepts for an override.
 *
 * @module
 */

import {
  computeSignature,
  signedContentType,
  SigningKeyCache,
} from "../auth.ts";

/** The API version this client speaks. */
export const CLIENT_API_VERSION = "v6.20220315";

const EMPTY_SHA256 =
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const keys = new SigningKeyCache();

/** A keypair to sign with. */
export interface Credentials {
  accessKey: string;
  secretKey: string;
}

/** Extra request options of {@link signedFetch}. */
export interface SignedFetchInit {
  /** Headers sent as given (a raw body's Content-Type goes here). */
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** The signing headers (`Date`, version, `Authorization`) for one request. */
export function signingHeaders(
  creds: Credentials,
  method: string,
  url: URL,
  contentType: string,
): Record<string, string> {
  const date = new Date().toISOString();
  const signature = computeSignature(
    keys,
    "sha256",
    creds.secretKey,
    date.slice(0, 10).replaceAll("-", ""),
    {
      method,
      target: url.pathname + url.search,
      date,
      host: url.host,
      contentType,
      versionHeaderName: "x-backendai-version",
      version: CLIENT_API_VERSION,
      bodyHash: EMPTY_SHA256,
    },
  );
  return {
    "Date": date,
    "X-BackendAI-Date": date,
    "X-BackendAI-Version": CLIENT_API_VERSION,
    "Authorization":
      `BackendAI signMethod=HMAC-SHA256, credential=${creds.accessKey}:${signature}`,
  };
}

/** True for bodies sent as they are (not JSON-encoded). */
function isRawBody(body: unknown): body is BodyInit {
  return body instanceof FormData || body instanceof ReadableStream ||
    body instanceof Uint8Array || body instanceof Blob;
}

/**
 * `fetch` with Backend.AI request signing. A plain value as `body` is sent
 * as JSON; `FormData`, a stream, bytes or a Blob go as they are (give a raw
 * body's Content-Type in `init.headers`). A GET or HEAD with a body goes as
 * a POST with `X-Method-Override`.
 *
 * @example
 * ```ts ignore
 * const res = await signedFetch("http://127.0.0.1:8081", creds, "GET", "/session/demo");
 * ```
 */
export function signedFetch(
  endpoint: string,
  creds: Credentials,
  method: string,
  path: string,
  body?: unknown,
  init: SignedFetchInit = {},
): Promise<Response> {
  const url = new URL(path, endpoint);
  const headers = new Headers(init.headers);
  let payload: BodyInit | undefined;
  if (isRawBody(body)) payload = body;
  else if (body !== undefined) {
    headers.set("Content-Type", "application/json");
    payload = JSON.stringify(body);
  }
  let sent = method.toUpperCase();
  if (payload !== undefined && (sent === "GET" || sent === "HEAD")) {
    headers.set("X-Method-Override", sent);
    sent = "POST";
  }
  const contentType = body instanceof FormData
    ? "multipart/form-data"
    : signedContentType(headers.get("Content-Type"));
  for (
    const [k, v] of Object.entries(
      signingHeaders(creds, sent, url, contentType),
    )
  ) {
    if (k !== "X-BackendAI-Date") headers.set(k, v);
  }
  return fetch(url, {
    method: sent,
    headers,
    body: payload,
    signal: init.signal,
  });
}

/**
 * A signed WebSocket to `path` on `endpoint` (`http` → `ws`, `https` →
 * `wss`), not yet open: a caller adds its listeners before the upgrade
 * answers. Signed as a GET without Content-Type, the way Backend.AI
 * clients sign an upgrade.
 */
export function signedSocketTo(
  endpoint: string,
  creds: Credentials,
  path: string,
): WebSocket {
  const url = new URL(path, endpoint);
  const headers = signingHeaders(
    creds,
    "GET",
    url,
    "application/octet-stream",
  );
  delete (headers as Record<string, string | undefined>).Date;
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  // Deno's WebSocket takes request headers in its second argument.
  return new WebSocket(url, { headers } as unknown as string[]);
}

/**
 * Opens `path` on `endpoint` as a signed WebSocket (`http` → `ws`, `https`
 * → `wss`); resolves once open. Signed as a GET without Content-Type, the
 * way Backend.AI clients sign an upgrade.
 * @throws {Error} when the socket fails to open (the message says why).
 */
export function openSignedSocket(
  endpoint: string,
  creds: Credentials,
  path: string,
): Promise<WebSocket> {
  const ws = signedSocketTo(endpoint, creds, path);
  return new Promise((resolve, reject) => {
    ws.onopen = () => {
      ws.onerror = null;
      resolve(ws);
    };
    ws.onerror = (e) =>
      reject(
        new Error((e as ErrorEvent).message || "the WebSocket failed to open"),
      );
  });
}
