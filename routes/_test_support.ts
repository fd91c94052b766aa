/**
 * The harness of the gateway's route tests (`routes/*_test.ts`) over real
 * HTTP: the Hono app runs under serve.ts's `serveGateway` (production) and
 * under plain `Deno.serve` on a random port, backed by an in-memory
 * stand-in for the manager's actors (tests/support/gateway_standin.ts; the
 * actors have their own tests). Requests are signed here by an independent
 * implementation of API.md's algorithm (WebCrypto, not the gateway's code).
 *
 * @module
 */
import { assertEquals } from "../tests/support/assert.ts";
import { createGateway, type GatewayOptions } from "./app.ts";
import { serveGateway } from "./serve.ts";
import http from "node:http";
import {
  createStandIn,
  type StandIn,
  USER,
} from "../tests/support/gateway_standin.ts";
import { signature } from "../tests/support/spec_signer.ts";

export { signature };

/** A gateway over the stand-in, listening on a random port. */
export interface Server {
  base: string;
  host: string;
  standIn: StandIn;
  close(): Promise<void>;
}

/** How the app is served: serve.ts's listener (production) or plain `Deno.serve`. */
export type ServeMode = "serveGateway" | "Deno.serve";
let mode: ServeMode = "serveGateway";

/** Serves a fresh stand-in's gateway the current way. */
async function start(options: GatewayOptions = {}): Promise<Server> {
  const standIn = createStandIn();
  const app = createGateway(standIn.deps, { logError: () => {}, ...options });
  if (mode === "serveGateway") {
    const server = await serveGateway(app, { hostname: "127.0.0.1", port: 0 });
    const host = `127.0.0.1:${server.port}`;
    return {
      base: `http://${host}`,
      host,
      standIn,
      close: () => server.shutdown(),
    };
  }
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    app.fetch,
  );
  const host = `127.0.0.1:${server.addr.port}`;
  return {
    base: `http://${host}`,
    host,
    standIn,
    close: () => server.shutdown(),
  };
}

/**
 * Registers `fn` once per serving mode, named `[MODE] name` (tests in a
 * file run one at a time); `modes` narrows it for what only one serves.
 */
export function dualTest(
  name: string,
  fn: () => Promise<void>,
  modes: readonly ServeMode[] = ["serveGateway", "Deno.serve"],
): void {
  for (const m of modes) {
    Deno.test(`[${m}] ${name}`, () => {
      mode = m;
      return fn();
    });
  }
}

/** Runs `fn` against a fresh gateway (served the test's way), closed after. */
export async function withServer(
  fn: (s: Server) => Promise<void>,
  options?: GatewayOptions,
): Promise<void> {
  const s = await start(options);
  try {
    await fn(s);
  } finally {
    await s.close();
  }
}

/** The UTF-8 encoder the tests share. */
export const enc = new TextEncoder();
/** How {@link signed} builds its request (defaults: a GET signed by `USER` now). */
export interface SignedInit {
  method?: string;
  body?: unknown;
  rawBody?: BodyInit;
  key?: { accessKey: string; secretKey: string };
  date?: string;
  ymd?: string;
  dateHeader?: "Date" | "X-BackendAI-Date" | "X-Sorna-Date";
  version?: string;
  versionHeader?: "X-BackendAI-Version" | "X-Sorna-Version";
  typeWord?: string;
  contentType?: string | null;
  headers?: Record<string, string>;
  /** Sign a different method than sent (X-Method-Override tests). */
  signMethod?: string;
}

/** Now (plus `offsetMs`) as ISO 8601. */
export function isoNow(offsetMs = 0): string {
  return new Date(Date.now() + offsetMs).toISOString();
}

/** A request signed by the spec's algorithm (not the gateway's code). */
export async function signed(
  s: Pick<Server, "base" | "host">,
  target: string,
  init: SignedInit = {},
): Promise<Response> {
  const method = init.method ?? "GET";
  const key = init.key ?? USER;
  const date = init.date ?? isoNow();
  const ymd = init.ymd ?? date.slice(0, 10).replaceAll("-", "");
  const version = init.version ?? "v6.20220315";
  const versionHeader = init.versionHeader ?? "X-BackendAI-Version";
  const contentType = init.contentType === undefined
    ? (init.body !== undefined ? "application/json" : null)
    : init.contentType;
  const sig = await signature({
    secret: key.secretKey,
    method: init.signMethod ?? method,
    target,
    date,
    ymd,
    host: s.host,
    contentType: contentType
      ? contentType.split(";")[0].trim().toLowerCase()
      : "application/octet-stream",
    versionName: versionHeader.toLowerCase(),
    version,
  });
  const headers = new Headers(init.headers);
  headers.set(init.dateHeader ?? "X-BackendAI-Date", date);
  headers.set(versionHeader, version);
  // FormData bodies get their boundary from fetch; only the signature names the type.
  if (contentType && !(init.rawBody instanceof FormData)) {
    headers.set("Content-Type", contentType);
  }
  headers.set(
    "Authorization",
    `${
      init.typeWord ?? "BackendAI"
    } signMethod=HMAC-SHA256, credential=${key.accessKey}:${sig}`,
  );
  return await fetch(s.base + target, {
    method,
    headers,
    body: init.rawBody ??
      (init.body !== undefined ? JSON.stringify(init.body) : undefined),
  });
}

/** The problem+json body of `res` (its content type checked). */
export async function problemOf(
  res: Response,
): Promise<{ type: string; title: string; msg?: string; data?: unknown }> {
  assertEquals(res.headers.get("content-type"), "application/problem+json");
  return await res.json();
}

/** Asserts a problem of `status` and type `name` (and `msg`, when given); returns its body. */
export async function expectProblem(
  res: Response,
  status: number,
  name: string,
  msg?: string,
) {
  const body = await problemOf(res);
  assertEquals([res.status, body.type], [
    status,
    `https://api.backend.ai/probs/${name}`,
  ], JSON.stringify(body));
  if (msg !== undefined) assertEquals(body.msg, msg);
  return body;
}

/** Creates a python session `name` as `USER` (201 expected); returns the reply. */
export async function createSession(
  s: Server,
  name: string,
  prefix = "/session",
) {
  const res = await signed(s, prefix, {
    method: "POST",
    body: {
      image: "python:3.11",
      name,
      config: { resources: { cpu: 1, mem: "1g" } },
    },
  });
  assertEquals(res.status, 201);
  return await res.json();
}

/**
 * The date, version and Authorization headers of a request `USER` signs
 * now, for requests {@link signed} cannot send (a WebSocket, a GET with a
 * body).
 */
async function userSigned(
  s: Server,
  method: string,
  target: string,
  contentType: string,
): Promise<Record<string, string>> {
  const date = isoNow();
  const sig = await signature({
    secret: USER.secretKey,
    method,
    target,
    date,
    ymd: date.slice(0, 10).replaceAll("-", ""),
    host: s.host,
    contentType,
    versionName: "x-backendai-version",
    version: "v6.20220315",
  });
  return {
    "X-BackendAI-Date": date,
    "X-BackendAI-Version": "v6.20220315",
    Authorization:
      `BackendAI signMethod=HMAC-SHA256, credential=${USER.accessKey}:${sig}`,
  };
}

/** Opens a signed WebSocket (no Content-Type: signed as application/octet-stream). */
export async function signedSocket(
  s: Server,
  target: string,
): Promise<WebSocket> {
  const ws = new WebSocket(`ws://${s.host}${target}`, {
    headers: await userSigned(s, "GET", target, "application/octet-stream"),
  } as unknown as string[]);
  // Collect from the start: a server may send right after the upgrade.
  const frames: Record<string, unknown>[] = [];
  const closed = new Promise<void>((r) =>
    ws.addEventListener("close", () => r())
  );
  ws.addEventListener("message", (e) => frames.push(JSON.parse(e.data)));
  collected.set(ws, { frames, closed });
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = (e) =>
      reject(new Error("socket failed: " + (e as ErrorEvent).message));
  });
  return ws;
}

/** What a socket from {@link signedSocket} received, and when it closed. */
export interface Collected {
  frames: Record<string, unknown>[];
  closed: Promise<void>;
}
const collected = new WeakMap<WebSocket, Collected>();

/** Frames received by a socket from {@link signedSocket} since its upgrade. */
export function collect(ws: WebSocket): Collected {
  return collected.get(ws)!;
}

/** A signed GET carrying a JSON body, as the Python SDK sends (fetch cannot). */
export async function getWithBody(
  s: Server,
  target: string,
  body: unknown,
): Promise<{ status: number; text: string }> {
  const signing = await userSigned(s, "GET", target, "application/json");
  const payload = JSON.stringify(body);
  return await new Promise((resolve, reject) => {
    const req = http.request(s.base + target, {
      method: "GET",
      headers: {
        "Content-Type": "application/json",
        "Content-Length": String(enc.encode(payload).byteLength),
        ...signing,
      },
    }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c) => text += c);
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on("error", reject);
    req.end(payload);
  });
}
