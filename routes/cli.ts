/**
 * `deno task cli METHOD PATH [JSON]`: signed requests to a manager, for
 * operators and scripts (and the tests' own signed client). Keys come from
 * `BACKEND_ACCESS_KEY` / `BACKEND_SECRET_KEY`, else from
 * `$DATA_DIR/admin.keypair` written at the manager's first start.
 *
 * @example
 * ```sh
 * deno task cli GET /session/mysess
 * deno task cli POST /session '{"image":"python","name":"mysess"}'
 * deno task cli POST /session/mysess '{"mode":"query","code":"print(1)","runId":null}'
 * ```
 *
 * @module
 */

import {
  computeSignature,
  signedContentType,
  SigningKeyCache,
} from "./auth.ts";

/** The API version this client speaks. */
export const CLIENT_API_VERSION = "v6.20220315";
const EMPTY_SHA256 =
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const keys = new SigningKeyCache();

export interface Credentials {
  accessKey: string;
  secretKey: string;
}

/**
 * `fetch` with Backend.AI request signing (HMAC-SHA256, API.md). The body
 * is JSON-encoded when it is a plain value.
 */
export function signedFetch(
  endpoint: string,
  creds: Credentials,
  method: string,
  path: string,
  body?: unknown,
  init: { headers?: Record<string, string> } = {},
): Promise<Response> {
  const url = new URL(path, endpoint);
  const date = new Date().toISOString();
  const headers = new Headers(init.headers);
  let payload: BodyInit | undefined;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    headers.set("Content-Type", "application/json");
    payload = JSON.stringify(body);
  }
  headers.set("Date", date);
  headers.set("X-BackendAI-Version", CLIENT_API_VERSION);
  const contentType = body instanceof FormData
    ? "multipart/form-data"
    : signedContentType(headers.get("Content-Type"));
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
  headers.set(
    "Authorization",
    `BackendAI signMethod=HMAC-SHA256, credential=${creds.accessKey}:${signature}`,
  );
  return fetch(url, { method, headers, body: payload });
}

async function credentials(): Promise<Credentials> {
  const accessKey = Deno.env.get("BACKEND_ACCESS_KEY");
  const secretKey = Deno.env.get("BACKEND_SECRET_KEY");
  if (accessKey && secretKey) return { accessKey, secretKey };
  const file = `${Deno.env.get("DATA_DIR") ?? "./var"}/admin.keypair`;
  try {
    return JSON.parse(await Deno.readTextFile(file));
  } catch {
    throw new Error(
      `no credentials: set BACKEND_ACCESS_KEY/BACKEND_SECRET_KEY or start the manager first (${file})`,
    );
  }
}

export async function run(args: string[]): Promise<void> {
  const [method, path, json] = args;
  if (!method || !path) {
    console.error(
      "usage: deno task cli METHOD PATH [JSON]   (BACKEND_ENDPOINT, default http://127.0.0.1:$PORT or 8081)",
    );
    Deno.exit(2);
  }
  const endpoint = Deno.env.get("BACKEND_ENDPOINT") ??
    `http://127.0.0.1:${Deno.env.get("PORT") ?? 8081}`;
  let body: unknown;
  try {
    body = json ? JSON.parse(json) : undefined;
  } catch (e) {
    console.error(`cli: the body is not JSON: ${(e as Error).message}`);
    Deno.exit(2);
  }
  let res: Response;
  try {
    const creds = await credentials();
    res = await signedFetch(endpoint, creds, method.toUpperCase(), path, body);
  } catch (e) {
    const why = e instanceof TypeError ? `cannot reach ${endpoint}` : "";
    console.error(`cli: ${why || (e as Error).message}`);
    Deno.exit(1);
  }
  const text = await res.text();
  console.log(`${res.status} ${res.statusText}`);
  if (text) {
    try {
      console.log(JSON.stringify(JSON.parse(text), null, 2));
    } catch {
      console.log(text);
    }
  }
  if (!res.ok) Deno.exit(1);
}
