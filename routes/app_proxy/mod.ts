/**
 * The browser app proxy: a session's http apps (Jupyter) under
 * `/x/apps/{sessionId}/{app}/...`, each upstream HTTP/1.1 connection one
 * kernel channel (http1.ts, pooled: pool.ts), WebSocket upgrades relayed
 * message by message (websocket.ts). The kernel keeps `--network none`.
 *
 * A browser cannot sign requests, so access is by token:
 * 1. a signed `POST /x/session/{ref}/apps/{app}/token` (`{"ttl"?: seconds}`,
 *    default 300, at most 3600) answers `{url, token, sessionId, app,
 *    expiresAt}`; the token is bound to the caller's keypair, the session
 *    and the app;
 * 2. the browser opens `url` (`.../{app}/?token=…`) once: the proxy checks
 *    the token and answers 303 to the same URL without it, setting an
 *    HttpOnly, SameSite=Lax cookie `bai_app` scoped to that app's path
 *    (valid 12 h, or until the session ends);
 * 3. requests under the path carry the cookie; the proxy checks it (and
 *    that the keypair is still active), removes it and forwards the
 *    request with its Host as is (the app's own XSRF checks stay on).
 *
 * A token of another session or app is 403, a forged or expired one 401.
 * Apps are served on an origin of their own, apart from the dashboard's
 * (origin.ts: a port of their own by default, or `APP_PROXY_ORIGIN`).
 * Proxied requests do not count against the keypair's API rate limit (a
 * notebook page makes dozens); every open channel keeps the session from
 * idling. Mounted in front of the API's middleware (routes/app.ts).
 *
 * @module
 */
import type { Context, Hono } from "hono";
import { z } from "zod";
import type { GatewayEnv } from "../context.ts";
import type {
  AppGrant,
  AppToken,
  Caller,
  ChannelDeps,
  GatewayDeps,
} from "../../actors/manager/port/mod.ts";
import {
  APP_PROXY_PREFIX,
  appBaseUrl,
} from "../../actors/manager/port/channels.ts";
import { requireAuth } from "../auth.ts";
import { callerOf } from "../caller.ts";
import { ownerAccessKeyOf, rawParams, validate } from "../params.ts";
import { peerAddress } from "../peer.ts";
import { ProblemError } from "../problems.ts";
import { requireUpgrade } from "../pty.ts";
import {
  bodyStream,
  chunk,
  endToEnd,
  framingOf,
  readResponseHead,
  requestHead,
  reusable,
  StreamReader,
  UpstreamError,
} from "./http1.ts";
import { ChannelPool, type Conn } from "./pool.ts";
import { type AppOrigin, appOriginFor, servesApps } from "./origin.ts";
import { handshakeKey, relayWebSocket } from "./websocket.ts";

/** The proxy's cookie (one per app path: the browser sends the one of this path). */
export const APP_COOKIE = "bai_app";

/** The link a token opens: `origin` + the app's base URL + `?token=`. */
export function appProxyUrl(origin: string, t: AppToken): string {
  return `${origin}${appBaseUrl(t.sessionId, t.app)}?token=${
    encodeURIComponent(t.token)
  }`;
}

const TokenBody = z.object({
  ttl: z.number().int().min(1).max(3600).optional(),
}).passthrough();

/** Options of the app proxy's routes. */
export interface AppProxyOptions {
  /**
   * Where apps are served (origin.ts): token links point there, and the
   * proxy answers requests that arrived there only.
   * @default {{ kind: "same" }}
   */
  origin?: AppOrigin;
}

/** Mounts the signed token route (among the API's routes). */
export function mountAppTokens(
  app: Hono<GatewayEnv>,
  deps: GatewayDeps,
  options: AppProxyOptions = {},
): void {
  const channels = deps.channels;
  if (!channels) return;
  app.post("/x/session/:ref/apps/:app/token", requireAuth(), async (c) => {
    const raw = rawParams(c);
    const caller = callerOf(c, ownerAccessKeyOf(raw));
    const { ttl } = validate(TokenBody, raw);
    const t = await channels.issueAppToken(
      caller,
      c.req.param("ref"),
      c.req.param("app"),
      ttl,
    );
    const origin = appOriginFor(
      options.origin ?? { kind: "same" },
      new URL(c.req.url),
    );
    return c.json({ ...t, url: appProxyUrl(origin, t) });
  });
}

/** Mounts `/x/apps/...` (in front of the API's middleware: no signature there). */
export function mountAppProxy(
  app: Hono<GatewayEnv>,
  deps: GatewayDeps,
  options: AppProxyOptions = {},
): void {
  const channels = deps.channels;
  if (!channels) return;
  const pool = new ChannelPool();
  const where = options.origin ?? { kind: "same" };
  if (where.kind !== "same") {
    app.use(`${APP_PROXY_PREFIX}/*`, async (c, next) => {
      const url = new URL(c.req.url);
      if (!servesApps(where, url)) {
        throw new ProblemError("url-not-found", {
          msg: `Apps are served at ${appOriginFor(where, url)}.`,
        });
      }
      await next();
    });
  }
  app.all(`${APP_PROXY_PREFIX}/:sid/:app`, (c) => {
    // The app lives under a directory: its relative links need the slash.
    const url = new URL(c.req.url);
    return c.redirect(`${url.pathname}/${url.search}`, 302);
  });
  app.all(`${APP_PROXY_PREFIX}/:sid/:app/*`, async (c) => {
    const sid = c.req.param("sid");
    const name = c.req.param("app");
    const req = c.req.raw;
    const url = new URL(req.url);
    const link = url.searchParams.get("token");
    if (link !== null) return await enter(deps, channels, url, sid, name, link);
    const grant = await authorise(deps, channels, req, sid, name);
    const caller: Caller = {
      accessKey: grant.accessKey,
      requester: grant.accessKey,
      isAdmin: false,
    };
    const fwd = forwardedHeaders(req, url, peerAddress(req, c.env));
    if (req.headers.get("upgrade")?.toLowerCase() === "websocket") {
      return await forwardWebSocket(req, url, fwd, channels, caller, sid, name);
    }
    return await forwardHttp(c, url, fwd, pool, channels, caller, sid, name);
  });
}

/** Trades a valid link token for the cookie, answering 303 to the clean URL. */
async function enter(
  deps: GatewayDeps,
  channels: ChannelDeps,
  url: URL,
  sid: string,
  app: string,
  link: string,
): Promise<Response> {
  const g = checked(channels.verifyAppToken(link), sid, app, "url");
  await activeKeypair(deps, g);
  const cookie = channels.cookieToken(g);
  url.searchParams.delete("token");
  const secure = url.protocol === "https:" ? "; Secure" : "";
  return new Response(null, {
    status: 303,
    headers: {
      Location: `${url.pathname}${url.search}`,
      "Set-Cookie": `${APP_COOKIE}=${cookie.token}; Path=${
        appBaseUrl(sid, app)
      }; Max-Age=${cookie.maxAgeSeconds}; HttpOnly; SameSite=Lax${secure}`,
      "Cache-Control": "no-store",
      "Referrer-Policy": "no-referrer",
    },
  });
}

/** The grant of this request's cookie for `sid`/`app`, else 401/403. */
async function authorise(
  deps: GatewayDeps,
  channels: ChannelDeps,
  req: Request,
  sid: string,
  app: string,
): Promise<AppGrant> {
  const values = cookieValues(req.headers.get("cookie"), APP_COOKIE);
  if (values.length === 0) {
    throw new ProblemError("auth-failed", {
      msg:
        "Open the app through a link from POST /x/session/{ref}/apps/{app}/token.",
    });
  }
  let mismatch = false;
  for (const v of values) {
    const g = channels.verifyAppToken(v);
    if (!g) continue;
    if (g.sessionId !== sid || g.app !== app) {
      mismatch = true;
      continue;
    }
    await activeKeypair(deps, g);
    return g;
  }
  throw mismatch
    ? new ProblemError("generic-forbidden", {
      msg: "This app token is for another session or app.",
    })
    : new ProblemError("auth-failed", {
      msg: "The app token is invalid or has expired; open a new link.",
    });
}

function checked(
  g: AppGrant | undefined,
  sid: string,
  app: string,
  use: AppGrant["use"],
): AppGrant {
  if (!g || g.use !== use) {
    throw new ProblemError("auth-failed", {
      msg: "The app link is invalid or has expired.",
    });
  }
  if (g.sessionId !== sid || g.app !== app) {
    throw new ProblemError("generic-forbidden", {
      msg: "This app token is for another session or app.",
    });
  }
  return g;
}

async function activeKeypair(deps: GatewayDeps, g: AppGrant): Promise<void> {
  const kp = await deps.keypairs.lookup(g.accessKey);
  if (!kp?.isActive) {
    throw new ProblemError("auth-failed", {
      msg: "The keypair of this app token is not active.",
    });
  }
}

/** Values of cookie `name` in a Cookie header. */
export function cookieValues(header: string | null, name: string): string[] {
  if (!header) return [];
  const out: string[] = [];
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) out.push(part.slice(eq + 1).trim());
  }
  return out;
}

/** The Cookie header without cookie `name` (undefined when nothing is left). */
export function withoutCookie(
  header: string | null,
  name: string,
): string | undefined {
  if (!header) return undefined;
  const kept = header.split(";").map((p) => p.trim()).filter((p) => {
    const eq = p.indexOf("=");
    return p && (eq < 0 ? p : p.slice(0, eq).trim()) !== name;
  });
  return kept.length ? kept.join("; ") : undefined;
}

/** Request headers to send upstream: end-to-end ones, our cookie removed, X-Forwarded-*. */
function forwardedHeaders(
  req: Request,
  url: URL,
  peer: string,
): [string, string][] {
  const out = endToEnd(req.headers).filter(([k]) =>
    k !== "cookie" && k !== "expect" && k !== "content-length" &&
    !k.startsWith("x-forwarded-") && !k.startsWith("sec-websocket-")
  );
  const cookie = withoutCookie(req.headers.get("cookie"), APP_COOKIE);
  if (cookie) out.push(["cookie", cookie]);
  if (peer !== "unknown") out.push(["x-forwarded-for", peer]);
  out.push(["x-forwarded-proto", url.protocol.replace(":", "")]);
  return out;
}

/** The request target upstream: the same path (the app serves under it) and query. */
function targetOf(url: URL): string {
  return `${url.pathname}${url.search}`;
}

async function forwardHttp(
  c: Context<GatewayEnv>,
  url: URL,
  fwd: [string, string][],
  pool: ChannelPool,
  channels: ChannelDeps,
  caller: Caller,
  sid: string,
  app: string,
): Promise<Response> {
  const req = c.req.raw;
  const method = req.method;
  const length = req.headers.get("content-length");
  const hasBody = req.body !== null && method !== "GET" && method !== "HEAD" &&
    length !== "0";
  const headers = [...fwd];
  if (hasBody) {
    headers.push(
      length !== null
        ? ["content-length", length]
        : ["transfer-encoding", "chunked"],
    );
  } else if (method !== "GET" && method !== "HEAD") {
    headers.push(["content-length", "0"]);
  }
  const head = requestHead(method, targetOf(url), headers);
  const key = `${caller.accessKey}/${sid}/${app}`;
  const open = () => channels.open(caller, sid, { kind: "app", app });
  for (let attempt = 0;; attempt++) {
    const { conn, reused } = await pool.acquire(key, open);
    const before = conn.reader.received;
    try {
      await conn.channel.write(head);
      if (hasBody) await sendBody(conn, req.body!, length === null);
      const res = await readResponseHead(conn.reader);
      if (!res) throw new UpstreamError("the app closed without answering");
      if (res.status < 200 || res.status > 599) {
        throw new UpstreamError(`an unexpected status ${res.status}`);
      }
      const framing = framingOf(res, method);
      const again = reusable(res, framing);
      const out = new Headers();
      for (const [k, v] of endToEnd(res.headers)) out.append(k, v);
      if (framing.kind === "none") {
        pool.release(key, conn, again);
        return new Response(null, {
          status: res.status,
          statusText: res.statusText,
          headers: out,
        });
      }
      const body = bodyStream(
        conn.reader,
        framing,
        (clean) => pool.release(key, conn, clean && again),
      );
      return new Response(body, {
        status: res.status,
        statusText: res.statusText,
        headers: out,
      });
    } catch (err) {
      conn.channel.close();
      // A kept channel the app had closed meanwhile: once more on a fresh one.
      const retry = reused && !hasBody && attempt === 0 &&
        conn.reader.received === before;
      if (retry) continue;
      throw new ProblemError("service-unavailable", {
        msg: `The app did not answer: ${
          err instanceof Error ? err.message : String(err)
        }`,
        cause: err,
      });
    }
  }
}

async function sendBody(
  conn: Conn,
  body: ReadableStream<Uint8Array>,
  chunked: boolean,
): Promise<void> {
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (value.byteLength === 0) continue;
    await conn.channel.write(chunked ? chunk(value) : value);
  }
  if (chunked) await conn.channel.write(chunk(new Uint8Array(0)));
}

async function forwardWebSocket(
  req: Request,
  url: URL,
  fwd: [string, string][],
  channels: ChannelDeps,
  caller: Caller,
  sid: string,
  app: string,
): Promise<Response> {
  requireUpgrade(req);
  const ch = await channels.open(caller, sid, { kind: "app", app });
  const reader = new StreamReader(ch);
  try {
    const { key, accept } = handshakeKey();
    const headers = [...fwd];
    const protocols = req.headers.get("sec-websocket-protocol");
    if (protocols) headers.push(["sec-websocket-protocol", protocols]);
    headers.push(
      ["connection", "Upgrade"],
      ["upgrade", "websocket"],
      ["sec-websocket-version", "13"],
      ["sec-websocket-key", key],
    );
    await ch.write(requestHead("GET", targetOf(url), headers));
    const res = await readResponseHead(reader);
    if (!res) throw new UpstreamError("the app closed without answering");
    if (res.status !== 101) {
      // The app refused the upgrade (403 of a failed origin check ...): its answer, as is.
      const framing = framingOf(res, "GET");
      if (framing.kind === "none" || res.status < 200) ch.close();
      const out = new Headers();
      for (const [k, v] of endToEnd(res.headers)) out.append(k, v);
      return new Response(
        framing.kind === "none" || res.status < 200
          ? null
          : bodyStream(reader, framing, () => ch.close()),
        { status: res.status < 200 ? 502 : res.status, headers: out },
      );
    }
    if (res.headers.get("sec-websocket-accept") !== accept) {
      throw new UpstreamError("a WebSocket handshake with a wrong accept key");
    }
    const protocol = res.headers.get("sec-websocket-protocol") ?? undefined;
    const { socket, response } = Deno.upgradeWebSocket(
      req,
      protocol ? { protocol } : {},
    );
    relayWebSocket(socket, ch, reader);
    return response;
  } catch (err) {
    ch.close();
    if (err instanceof ProblemError) throw err;
    throw new ProblemError("service-unavailable", {
      msg: `The app did not answer: ${
        err instanceof Error ? err.message : String(err)
      }`,
      cause: err,
    });
  }
}
