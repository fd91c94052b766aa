/**
 * Integration tests of the HTTP gateway (routes/) over real HTTP: the Hono
 * app runs under `Deno.serve` on a random port, backed by an in-memory
 * stand-in for the manager's actors (tests/support/gateway_standin.ts; the
 * actors have their own tests). Requests are signed here by an independent
 * implementation of API.md's algorithm (WebCrypto, not the gateway's code),
 * and by the real Backend.AI JavaScript client.
 */
import {
  assert,
  assertEquals,
  assertExists,
  assertMatch,
  assertNotEquals,
} from "./support/assert.ts";
import { createGateway, type GatewayOptions } from "../routes/app.ts";
import { serveGateway } from "../routes/serve.ts";
import http from "node:http";
import { PROBLEMS, type ProblemType } from "../routes/problems.ts";
import { createBaiClient, isBaiClientError } from "./support/bai_client.ts";
import {
  ADMIN,
  createStandIn,
  INACTIVE,
  LIMITED,
  type StandIn,
  USER,
} from "./support/gateway_standin.ts";

// ---------------------------------------------------------------- harness

interface Server {
  base: string;
  host: string;
  standIn: StandIn;
  close(): Promise<void>;
}

/** How the app is served: serve.ts's listener (production) or plain `Deno.serve`. */
type ServeMode = "serveGateway" | "Deno.serve";
let mode: ServeMode = "serveGateway";

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

/** Registers `fn` once per serving mode (tests in a file run one at a time). */
function dualTest(name: string, fn: () => Promise<void>): void {
  for (const m of ["serveGateway", "Deno.serve"] as const) {
    Deno.test(`[${m}] ${name}`, () => {
      mode = m;
      return fn();
    });
  }
}

async function withServer(
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

const enc = new TextEncoder();
const hex = (buf: ArrayBuffer) =>
  Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, "0")).join(
    "",
  );

async function hmac(
  key: Uint8Array<ArrayBuffer>,
  msg: string,
): Promise<Uint8Array<ArrayBuffer>> {
  const k = await crypto.subtle.importKey(
    "raw",
    key,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, enc.encode(msg)));
}

/** API.md's signature, written from the spec alone. */
async function signature(opts: {
  secret: string;
  method: string;
  target: string;
  date: string;
  ymd: string;
  host: string;
  contentType: string;
  versionName: string;
  version: string;
}): Promise<string> {
  const bodyHash = hex(await crypto.subtle.digest("SHA-256", new Uint8Array()));
  const str = [
    opts.method,
    opts.target,
    opts.date,
    `host:${opts.host}`,
    `content-type:${opts.contentType}`,
    `${opts.versionName}:${opts.version}`,
    bodyHash,
  ].join("\n");
  const k1 = await hmac(enc.encode(opts.secret), opts.ymd);
  const k2 = await hmac(k1, opts.host);
  return hex((await hmac(k2, str)).buffer);
}

interface SignedInit {
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

function isoNow(offsetMs = 0): string {
  return new Date(Date.now() + offsetMs).toISOString();
}

async function signed(
  s: Server,
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

async function problemOf(
  res: Response,
): Promise<{ type: string; title: string; msg?: string; data?: unknown }> {
  assertEquals(res.headers.get("content-type"), "application/problem+json");
  return await res.json();
}

async function expectProblem(
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

async function createSession(s: Server, name: string, prefix = "/session") {
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

// ------------------------------------------------------------------ tests

dualTest(
  "GET / answers version without auth, with Server and anonymous rate-limit headers",
  async () => {
    await withServer(async (s) => {
      const res = await fetch(s.base + "/");
      assertEquals(res.status, 200);
      assertEquals(await res.json(), {
        version: "v6.20220315",
        manager: "standin-0.1",
      });
      assertEquals(res.headers.get("server"), "BackendAI");
      assertEquals(res.headers.get("x-ratelimit-limit"), "1000");
      assertEquals(res.headers.get("x-ratelimit-remaining"), "1000");
      assertEquals(res.headers.get("x-ratelimit-window"), "900");
      const slots = await fetch(s.base + "/config/resource-slots");
      assertEquals(await slots.json(), {
        cpu: "count",
        mem: "bytes",
        "cuda.device": "count",
      });
    });
  },
);

dualTest(
  "signature vectors: every accepted date form, header name and type word verifies",
  async () => {
    await withServer(async (s) => {
      await createSession(s, "vec-sess");
      const now = new Date();
      const iso = now.toISOString(); // 2026-11-28T12:40:45.215Z
      const ymd = iso.slice(0, 10).replaceAll("-", "");
      const micro = iso.replace(/\.(\d{3})Z$/, ".$1123+00:00"); // microseconds, +00:00
      const noZone = iso.replace(/Z$/, ""); // no zone means UTC
      const noFrac = iso.replace(/\.\d{3}Z$/, "+00:00");
      const rfc1123 = now.toUTCString(); // Sat, 28 Nov 2026 12:40:45 GMT
      // Same instant as +09:00: the key's day is the header's own calendar day.
      const tokyo = new Date(now.getTime() + 9 * 3600_000).toISOString()
        .replace(
          /Z$/,
          "+09:00",
        );
      const tokyoYmd = tokyo.slice(0, 10).replaceAll("-", "");
      const cases: [string, SignedInit][] = [
        ["iso Z ms", { date: iso }],
        ["iso micro +00:00", { date: micro, ymd }],
        ["iso without zone", { date: noZone, ymd }],
        ["iso without fraction", { date: noFrac, ymd }],
        ["iso +09:00", { date: tokyo, ymd: tokyoYmd }],
        ["rfc1123 in Date", { date: rfc1123, ymd, dateHeader: "Date" }],
        ["X-Sorna-Date", { date: iso, dateHeader: "X-Sorna-Date" }],
        ["X-Sorna-Version", { versionHeader: "X-Sorna-Version" }],
        ["Sorna type word", { typeWord: "Sorna" }],
        ["v4 version", { version: "v4.20190615" }],
        ["content type with parameters", {
          contentType: "Application/JSON; charset=utf-8",
        }],
      ];
      for (const [label, init] of cases) {
        const res = await signed(s, "/session/vec-sess", init);
        assertEquals(res.status, 200, `${label}: ${await res.clone().text()}`);
        await res.body?.cancel();
      }
      // Query string is part of the signed target; Host carries the port.
      const q = await signed(
        s,
        "/session/vec-sess?owner_access_key=" + USER.accessKey,
      );
      assertEquals(q.status, 200);
      await q.body?.cancel();
      assertMatch(s.host, /:\d+$/);
    });
  },
);

dualTest(
  "signature covers method, target, host, content type and version",
  async () => {
    await withServer(async (s) => {
      await createSession(s, "cover-sess");
      const date = isoNow();
      const ymd = date.slice(0, 10).replaceAll("-", "");
      const good = await signature({
        secret: USER.secretKey,
        method: "GET",
        target: "/session/cover-sess",
        date,
        ymd,
        host: s.host,
        contentType: "application/octet-stream",
        versionName: "x-backendai-version",
        version: "v6.20220315",
      });
      const send = (target: string, headers: Record<string, string>) =>
        fetch(s.base + target, {
          headers: {
            "X-BackendAI-Date": date,
            "X-BackendAI-Version": "v6.20220315",
            Authorization:
              `BackendAI signMethod=HMAC-SHA256, credential=${USER.accessKey}:${good}`,
            ...headers,
          },
        });
      const ok = await send("/session/cover-sess", {});
      assertEquals(ok.status, 200);
      await ok.body?.cancel();
      await expectProblem(
        await send("/session/cover-sess?x=1", {}),
        401,
        "auth-failed",
        "Signature mismatch",
      );
      await expectProblem(
        await send("/session/cover-sess", {
          "Content-Type": "application/json",
        }),
        401,
        "auth-failed",
        "Signature mismatch",
      );
      await expectProblem(
        await send("/session/cover-sess", {
          "X-BackendAI-Version": "v6.20210815",
        }),
        401,
        "auth-failed",
      );
      await expectProblem(
        await signed(s, "/session/cover-sess", { signMethod: "DELETE" }),
        401,
        "auth-failed",
        "Signature mismatch",
      );
      await expectProblem(
        await signed(s, "/session/cover-sess", { ymd: "19991231" }),
        401,
        "auth-failed",
        "Signature mismatch",
      );
    });
  },
);

dualTest(
  "clock skew: inside ±15 min passes, outside is 400 Date/time sync error",
  async () => {
    await withServer(async (s) => {
      await createSession(s, "skew-sess");
      for (const offset of [-14.8 * 60_000, 14.8 * 60_000]) {
        const res = await signed(s, "/session/skew-sess", {
          date: isoNow(offset),
        });
        assertEquals(res.status, 200, `offset ${offset}`);
        await res.body?.cancel();
      }
      for (const offset of [-15.2 * 60_000, 15.2 * 60_000, -86400_000]) {
        await expectProblem(
          await signed(s, "/session/skew-sess", { date: isoNow(offset) }),
          400,
          "invalid-auth-params",
          "Date/time sync error",
        );
      }
      await expectProblem(
        await signed(s, "/session/skew-sess", { date: "yesterday-ish" }),
        400,
        "invalid-auth-params",
        "Date/time sync error",
      );
    });
  },
);

dualTest(
  "auth failures: unknown, inactive, mismatch, malformed, anonymous, bad version",
  async () => {
    await withServer(async (s) => {
      const unknown = {
        accessKey: "AKIANOSUCHKEY0000000",
        secretKey: USER.secretKey,
      };
      await expectProblem(
        await signed(s, "/session/x", { key: unknown }),
        401,
        "auth-failed",
        "Access key not found",
      );
      await expectProblem(
        await signed(s, "/session/x", { key: INACTIVE }),
        401,
        "auth-failed",
        "Access key is inactive",
      );
      const wrong = { accessKey: USER.accessKey, secretKey: "not-the-secret" };
      await expectProblem(
        await signed(s, "/session/x", { key: wrong }),
        401,
        "auth-failed",
        "Signature mismatch",
      );

      const headers = {
        "X-BackendAI-Version": "v6.20220315",
        "X-BackendAI-Date": isoNow(),
      };
      for (
        const bad of [
          "BackendAI",
          "Bearer signMethod=HMAC-SHA256, credential=AK:SIG",
          "BackendAI signMethod=HMAC-SHA256",
          "BackendAI signMethod=HMAC-SHA256, credential=NOCOLON",
          "BackendAI garbage",
        ]
      ) {
        const res = await fetch(s.base + "/session/x", {
          headers: { ...headers, Authorization: bad },
        });
        await expectProblem(res, 400, "invalid-auth-params");
      }
      await expectProblem(
        await fetch(s.base + "/session/x", { headers }),
        401,
        "auth-failed",
      );
      await expectProblem(
        await fetch(s.base + "/", {
          headers: { "X-BackendAI-Version": "v7.20990101" },
        }),
        400,
        "generic-bad-request",
        "Unsupported API version.",
      );
      await expectProblem(
        await signed(s, "/session/x", { version: "v3.20170615" }),
        400,
        "generic-bad-request",
        "Unsupported API version.",
      );
      await expectProblem(
        await fetch(s.base + "/", {
          headers: { "X-Sorna-Version": "v2.20170315" },
        }),
        400,
        "generic-bad-request",
      );
    });
  },
);

dualTest(
  "every problem type of API.md is reachable with its status; 500 leaks nothing",
  async () => {
    await withServer(async (s) => {
      for (
        const [name, def] of Object.entries(PROBLEMS) as [
          ProblemType,
          { status: number; title: string },
        ][]
      ) {
        if (name === "request-too-large") continue; // covered by the body-limit test
        const res = await signed(s, `/session/problem-${name}`);
        const body = await expectProblem(res, def.status, name);
        assertEquals(body.title, def.title);
        assertEquals(res.headers.get("server"), "BackendAI");
      }
      const duck = await expectProblem(
        await signed(s, "/session/duck-quota-exceeded"),
        412,
        "quota-exceeded",
      );
      assertEquals(duck.msg, "duck-typed");
      const res = await signed(s, "/session/crash");
      const text = await res.text();
      assertEquals(res.status, 500);
      assertEquals(JSON.parse(text), {
        type: "https://api.backend.ai/probs/internal-server-error",
        title: "Internal server error.",
      });
      assert(
        !text.includes("secret internal detail") && !text.includes("at "),
        text,
      );
    });
  },
);

dualTest(
  "routing: 404 url-not-found, 405 method-not-allowed, X-Method-Override",
  async () => {
    await withServer(async (s) => {
      await expectProblem(
        await fetch(s.base + "/no/such/path"),
        404,
        "url-not-found",
      );
      await expectProblem(
        await signed(s, "/no/such/path"),
        404,
        "url-not-found",
      );
      const res405 = await fetch(s.base + "/", { method: "DELETE" });
      await expectProblem(res405, 405, "method-not-allowed");
      assertEquals(res405.headers.get("allow"), "GET");
      await expectProblem(
        await fetch(s.base + "/config/resource-slots", { method: "POST" }),
        405,
        "method-not-allowed",
      );

      await createSession(s, "override-me");
      // POST carrying X-Method-Override: PATCH → restart (204), signed as PATCH.
      const restart = await signed(s, "/session/override-me", {
        method: "POST",
        signMethod: "PATCH",
        headers: { "X-Method-Override": "PATCH" },
      });
      assertEquals(restart.status, 204);
      assertEquals(restart.headers.get("server"), "BackendAI");
      const info = await (await signed(s, "/session/override-me")).json();
      assertEquals(info.statusInfo, "restarted");
      // Override to GET keeps the JSON body as parameters.
      const get = await signed(s, "/session/override-me", {
        method: "POST",
        signMethod: "GET",
        body: {},
        headers: { "X-Method-Override": "GET" },
      });
      assertEquals(get.status, 200);
      assertEquals((await get.json()).sessionName, "override-me");
    });
  },
);

dualTest(
  "rate limit: headers on authorized responses, 429 past the keypair's limit",
  async () => {
    await withServer(async (s) => {
      const remaining: string[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await signed(s, "/session/nothing", { key: LIMITED });
        await expectProblem(res, 404, "object-not-found");
        assertEquals(res.headers.get("x-ratelimit-limit"), "3");
        assertEquals(res.headers.get("x-ratelimit-window"), "900");
        remaining.push(res.headers.get("x-ratelimit-remaining")!);
      }
      assertEquals(remaining, ["2", "1", "0"]);
      const over = await signed(s, "/session/nothing", { key: LIMITED });
      const body = await expectProblem(over, 429, "rate-limit-exceeded");
      assertEquals(body.title, "You have reached your API query rate limit.");
      assertEquals(over.headers.get("x-ratelimit-remaining"), "0");
      // Other keypairs are counted separately, with the default limit.
      const other = await signed(s, "/session/nothing");
      await other.body?.cancel();
      assertEquals(other.headers.get("x-ratelimit-limit"), "1000");
      assertEquals(other.headers.get("x-ratelimit-remaining"), "999");
    });
  },
);

dualTest(
  "body: malformed JSON → 400, oversize → 413, never a 500",
  async () => {
    await withServer(async (s) => {
      await expectProblem(
        await signed(s, "/session", {
          method: "POST",
          rawBody: "{not json",
          contentType: "application/json",
        }),
        400,
        "invalid-api-params",
        "Malformed body",
      );
      await expectProblem(
        await signed(s, "/session", {
          method: "POST",
          rawBody: "[1,2]",
          contentType: "application/json",
        }),
        400,
        "invalid-api-params",
      );
      const big = "x".repeat(4096);
      await expectProblem(
        await signed(s, "/session", {
          method: "POST",
          body: { image: "python", name: "big-one", tag: big },
        }),
        413,
        "request-too-large",
      );
      // Streamed without Content-Length: the limit holds while reading.
      const chunks = new ReadableStream<Uint8Array>({
        start(c) {
          for (let i = 0; i < 8; i++) c.enqueue(enc.encode(big));
          c.close();
        },
      });
      await expectProblem(
        await signed(s, "/session", {
          method: "POST",
          rawBody: chunks,
          contentType: "application/json",
        }),
        413,
        "request-too-large",
      );
      // Anonymous oversize requests are refused the same way.
      await expectProblem(
        await fetch(s.base + "/", { method: "POST", body: big + big }),
        413,
        "request-too-large",
      );
    }, { jsonBodyLimit: 2048 });
  },
);

dualTest(
  "sessions v5: create, reuse, conflicts, info, params validation, destroy",
  async () => {
    await withServer(async (s) => {
      const created = await signed(s, "/session", {
        method: "POST",
        body: {
          lang: "python:3.11",
          clientSessionToken: "my-sess",
          sessionType: "interactive",
          config: {
            resources: { cpu: "2", mem: "512m", "cuda.device": 1 },
            scalingGroup: "default",
          },
        },
      });
      assertEquals(created.status, 201);
      const c1 = await created.json();
      assertEquals([c1.sessionName, c1.status, c1.created, c1.servicePorts], [
        "my-sess",
        "RUNNING",
        true,
        [],
      ]);
      assertEquals(c1.kernelId, undefined);
      const stored = s.standIn.sessions.get(c1.sessionId)!;
      assertEquals(stored.info.occupiedSlots, {
        cpu: 2,
        mem: 512 * 2 ** 20,
        "cuda.device": 1,
      });

      const reused = await signed(s, "/session", {
        method: "POST",
        body: { image: "python:3.11", name: "my-sess" },
      });
      assertEquals(reused.status, 200);
      assertEquals((await reused.json()).created, false);

      const other = await signed(s, "/session", {
        method: "POST",
        body: { image: "r:4", name: "my-sess" },
      });
      const conflict = await expectProblem(
        other,
        400,
        "session-already-exists",
      );
      assertEquals(conflict.data, { existingSessionId: c1.sessionId });
      await expectProblem(
        await signed(s, "/session", {
          method: "POST",
          body: { image: "python:3.11", name: "my-sess", reuseIfExists: false },
        }),
        400,
        "session-already-exists",
      );

      for (
        const bad of [
          { image: "python", name: "x" }, // name too short
          { image: "python", name: "-bad-name" },
          { name: "no-image-here" },
          { image: "python", name: "batchy", type: "batch" }, // batch needs startupCommand
          {
            image: "python",
            name: "memmy",
            config: { resources: { mem: "lots" } },
          },
          { image: "python", name: "typo", type: "interactiv" },
        ]
      ) {
        const p = await expectProblem(
          await signed(s, "/session", { method: "POST", body: bad }),
          400,
          "invalid-api-params",
        );
        assertExists(p.data, JSON.stringify(bad));
      }

      const info =
        await (await signed(s, `/session/${c1.sessionId.slice(0, 8)}`))
          .json();
      assertEquals([info.sessionName, info.image, info.status], [
        "my-sess",
        "python:3.11",
        "RUNNING",
      ]);

      await expectProblem(
        await signed(s, "/session/my-sess?forced=true", { method: "DELETE" }),
        403,
        "insufficient-privilege",
      );
      await expectProblem(
        await signed(s, `/session/my-sess?owner_access_key=${ADMIN.accessKey}`),
        403,
        "insufficient-privilege",
      );
      const del = await signed(s, "/session/my-sess", { method: "DELETE" });
      assertEquals(del.status, 200);
      assertExists((await del.json()).stats);
      const ended = await (await signed(s, "/session/my-sess")).json();
      assertEquals(ended.status, "TERMINATED");
      await expectProblem(
        await signed(s, "/session/my-sess", { method: "PATCH" }),
        404,
        "object-not-found",
      );
      // Query-string parameters work too (GET-style create is unusual but allowed).
      const viaQuery = await signed(
        s,
        "/session?image=python:3.11&name=query-made&enqueueOnly=true",
        { method: "POST" },
      );
      assertEquals(viaQuery.status, 201);
      assertEquals((await viaQuery.json()).status, "PENDING");
    });
  },
);

dualTest(
  "sessions v4: POST /kernel/create and kernelId, /kernel paths",
  async () => {
    await withServer(async (s) => {
      const res = await signed(s, "/kernel/create", {
        method: "POST",
        version: "v4.20190615",
        body: {
          lang: "python:3.11",
          clientSessionToken: "v4-sess",
          config: { cpu: 1, mem: "1g" },
        },
      });
      assertEquals(res.status, 201);
      const body = await res.json();
      assertEquals(body.kernelId, body.sessionId);
      assertEquals(s.standIn.sessions.get(body.sessionId)!.info.occupiedSlots, {
        cpu: 1,
        mem: 2 ** 30,
      });
      const info = await signed(s, "/kernel/v4-sess", {
        version: "v4.20190615",
      });
      assertEquals((await info.json()).kernelId, body.sessionId);
      const exec = await signed(s, "/kernel/v4-sess", {
        method: "POST",
        version: "v4.20190615",
        body: { mode: "query", code: "1+1", runId: "abcdefgh" },
      });
      assertEquals((await exec.json()).result.console, [[
        "stdout",
        "echo:1+1",
      ]]);
      const restart = await signed(s, "/kernel/v4-sess", {
        method: "PATCH",
        version: "v4.20190615",
      });
      assertEquals(restart.status, 204);
      const interrupt = await signed(s, "/kernel/v4-sess/interrupt", {
        method: "POST",
        version: "v4.20190615",
      });
      assertEquals(interrupt.status, 204);
      const del = await signed(s, "/kernel/v4-sess", {
        method: "DELETE",
        version: "v4.20190615",
      });
      assertEquals(del.status, 200);
      await del.body?.cancel();
    });
  },
);

dualTest("execute: modes, runId rules, merged console, complete", async () => {
  await withServer(async (s) => {
    await createSession(s, "exec-sess");
    const exec = (body: unknown) =>
      signed(s, "/session/exec-sess", { method: "POST", body });
    const r1 =
      await (await exec({ mode: "query", code: "print(1)", runId: null }))
        .json();
    assertMatch(r1.result.runId, /^[0-9a-f]{16}$/);
    assertEquals(r1.result.status, "finished");
    assertEquals(r1.result.console, [["stdout", "echo:print(1)"]]);
    assertEquals(Object.keys(r1.result).sort(), [
      "console",
      "exitCode",
      "files",
      "options",
      "runId",
      "status",
    ]);

    const wait = await (await exec({
      mode: "query",
      code: "x = input()",
      runId: "run-0001",
    })).json();
    assertEquals([wait.result.status, wait.result.options], ["waiting-input", {
      is_password: false,
    }]);
    const fed =
      await (await exec({ mode: "input", code: "hello", runId: "run-0001" }))
        .json();
    assertEquals(fed.result.console, [["stdout", "got hello\n"]]);

    const slow =
      await (await exec({ mode: "query", code: "slow", runId: "run-0002" }))
        .json();
    assertEquals(slow.result.status, "continued");
    const cont =
      await (await exec({ mode: "continue", code: "", runId: "run-0002" }))
        .json();
    assertEquals(cont.result.status, "finished");

    const err =
      await (await exec({ mode: "query", code: "raise X", runId: "run-0003" }))
        .json();
    assertEquals([err.result.status, err.result.exitCode], ["finished", 1]);
    assertEquals(err.result.console, [["stderr", "Traceback\n"]]);

    await expectProblem(
      await exec({ mode: "query", code: "1" }),
      400,
      "invalid-api-params",
    );
    await expectProblem(
      await exec({ mode: "continue", code: "", runId: null }),
      400,
      "invalid-api-params",
    );
    await expectProblem(
      await exec({ mode: "input", code: "x", runId: null }),
      400,
      "invalid-api-params",
    );
    await expectProblem(
      await exec({ mode: "dance", code: "1", runId: null }),
      400,
      "invalid-api-params",
    );
    await expectProblem(
      await signed(s, "/session/nope-sess", {
        method: "POST",
        body: { mode: "query", code: "1", runId: null },
      }),
      404,
      "object-not-found",
    );

    const comp = await signed(s, "/session/exec-sess/complete", {
      method: "POST",
      body: { code: "pri", options: { row: 0, col: 3, line: "pri", post: "" } },
    });
    assertEquals((await comp.json()).result.completions, ["pri_done"]);
  });
});

dualTest("files: multipart upload, download, listing", async () => {
  await withServer(async (s) => {
    await createSession(s, "file-sess");
    const form = new FormData();
    form.append("src", new File(["hello file"], "a.txt"));
    const up = await signed(s, "/session/file-sess/upload", {
      method: "POST",
      rawBody: form,
      contentType: "multipart/form-data",
    });
    assertEquals(up.status, 204);
    const list = await (await signed(s, "/session/file-sess/files?path=."))
      .json();
    assertEquals(list, { path: ".", files: [{ name: "a.txt" }] });
    // Backend.AI's form: multipart/mixed, one tar part per file.
    const down = await signed(s, "/session/file-sess/download?files=a.txt");
    assertMatch(
      down.headers.get("content-type") ?? "",
      /^multipart\/mixed; boundary=\w+$/,
    );
    const parts = await down.text();
    assert(parts.includes("a.txt") && parts.includes("hello file"), parts);
    const single = await signed(
      s,
      "/session/file-sess/download_single?file=a.txt",
    );
    assertEquals(await single.text(), "hello file");
    await expectProblem(
      await signed(s, "/session/file-sess/download"),
      400,
      "invalid-api-params",
    );
    await expectProblem(
      await signed(s, "/session/file-sess/upload", {
        method: "POST",
        body: {},
      }),
      400,
      "invalid-api-params",
    );
  });
});

/** Opens a signed WebSocket (no Content-Type: signed as application/octet-stream). */
async function signedSocket(s: Server, target: string): Promise<WebSocket> {
  const date = isoNow();
  const sig = await signature({
    secret: USER.secretKey,
    method: "GET",
    target,
    date,
    ymd: date.slice(0, 10).replaceAll("-", ""),
    host: s.host,
    contentType: "application/octet-stream",
    versionName: "x-backendai-version",
    version: "v6.20220315",
  });
  const ws = new WebSocket(`ws://${s.host}${target}`, {
    headers: {
      "X-BackendAI-Date": date,
      "X-BackendAI-Version": "v6.20220315",
      Authorization:
        `BackendAI signMethod=HMAC-SHA256, credential=${USER.accessKey}:${sig}`,
    },
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

interface Collected {
  frames: Record<string, unknown>[];
  closed: Promise<void>;
}
const collected = new WeakMap<WebSocket, Collected>();

/** Frames received by a socket from {@link signedSocket} since its upgrade. */
function collect(ws: WebSocket): Collected {
  return collected.get(ws)!;
}

dualTest(
  "websocket execute: frames, waiting-input, close after finished, errors",
  async () => {
    await withServer(async (s) => {
      await createSession(s, "ws-sess");
      const ws = await signedSocket(s, "/stream/session/ws-sess/execute");
      const { frames, closed } = collect(ws);
      ws.addEventListener("message", (e) => {
        if (JSON.parse(e.data).status === "waiting-input") ws.send("my line");
      });
      ws.send(
        JSON.stringify({ code: "x = input()", mode: "query", options: {} }),
      );
      await closed;
      assertEquals(frames.map((f) => f.status), [
        "continued",
        "waiting-input",
        "finished",
      ]);
      assertEquals(frames[0], {
        status: "continued",
        console: [["stdout", "ab\n"]],
        exitCode: null,
        options: null,
        files: [],
      });
      assertEquals(frames[2].console, [["stdout", "got my line\n"]]);
      assertEquals(s.standIn.inputs, ["my line"]);

      const missing = await signedSocket(
        s,
        "/stream/kernel/no-such-sess/execute",
      );
      const m = collect(missing);
      missing.send(JSON.stringify({ code: "1", mode: "query" }));
      await m.closed;
      assertEquals(m.frames, [{ status: "error", msg: "No such session." }]);

      const bad = await signedSocket(s, "/stream/session/ws-sess/execute");
      const b = collect(bad);
      bad.send("not json");
      await b.closed;
      assertEquals(b.frames[0].status, "error");

      const pty = await signedSocket(s, "/stream/session/ws-sess/pty");
      const p = collect(pty);
      await p.closed;
      assertEquals(p.frames[0].status, "error");
      assertMatch(String(p.frames[0].msg), /not supported/);

      // Unsigned upgrade → plain 401 problem, no socket.
      await expectProblem(
        await fetch(s.base + "/stream/session/ws-sess/execute", {
          headers: { "X-BackendAI-Version": "v6.20220315" },
        }),
        401,
        "auth-failed",
      );
    });
  },
);

dualTest(
  "websocket execute: client disconnect interrupts the run",
  async () => {
    await withServer(async (s) => {
      const { sessionId } = await createSession(s, "ws-drop");
      const ws = await signedSocket(s, "/stream/session/ws-drop/execute");
      const first = new Promise<void>((r) =>
        ws.addEventListener("message", () => r(), { once: true })
      );
      const closed = new Promise<void>((r) =>
        ws.addEventListener("close", () => r())
      );
      ws.send(JSON.stringify({ code: "forever", mode: "query" }));
      await first;
      ws.close();
      await closed;
      for (let i = 0; i < 1000 && s.standIn.interrupted.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 10));
      }
      assertEquals(s.standIn.interrupted, [sessionId]);
    });
  },
);

dualTest(
  "events: SSE frames of lifecycle events; unknown session is a 404 problem",
  async () => {
    await withServer(async (s) => {
      await createSession(s, "ev-sess");
      const res = await signed(s, "/events/session?name=ev-sess");
      assertEquals(res.status, 200);
      assertEquals(res.headers.get("content-type"), "text/event-stream");
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      while (s.standIn.eventListeners() === 0) {
        await new Promise((r) => setTimeout(r, 5));
      }
      s.standIn.emit({
        event: "session_started",
        data: { sessionName: "ev-sess" },
      });
      let text = "";
      while (!text.includes("\n\n")) text += (await reader.read()).value;
      assertEquals(
        text,
        'event: session_started\ndata: {"sessionName":"ev-sess"}\n\n',
      );
      await reader.cancel();
      await expectProblem(
        await signed(s, "/events/session?name=nothing-here"),
        404,
        "object-not-found",
      );
    });
  },
);

dualTest(
  "admin API: admin keypair only; keypair secret shown once; validated input",
  async () => {
    await withServer(async (s) => {
      await expectProblem(
        await signed(s, "/x/admin/keypairs"),
        403,
        "insufficient-privilege",
      );
      await expectProblem(
        await fetch(s.base + "/x/admin/keypairs"),
        401,
        "auth-failed",
      );
      const made = await signed(s, "/x/admin/keypairs", {
        method: "POST",
        key: ADMIN,
        body: { is_admin: false, rate_limit: 50 },
      });
      assertEquals(made.status, 201);
      const kp = await made.json();
      assertMatch(kp.accessKey, /^AKIA/);
      assertExists(kp.secretKey);
      // The new keypair signs requests right away; its own limit applies.
      const res = await signed(s, "/session/none-yet", { key: kp });
      await expectProblem(res, 404, "object-not-found");
      assertEquals(res.headers.get("x-ratelimit-limit"), "50");
      const list = await (await signed(s, "/x/admin/keypairs", { key: ADMIN }))
        .json();
      assert(
        list.keypairs.every((k: Record<string, unknown>) =>
          !("secretKey" in k)
        ),
      );
      assertEquals(
        (await signed(s, `/x/admin/keypairs/${kp.accessKey}/deactivate`, {
          method: "POST",
          key: ADMIN,
        })).status,
        204,
      );
      await expectProblem(
        await signed(s, "/session/none-yet", { key: kp }),
        401,
        "auth-failed",
        "Access key is inactive",
      );
      await expectProblem(
        await signed(s, "/x/admin/keypairs", {
          method: "POST",
          key: ADMIN,
          body: { rateLimit: -1 },
        }),
        400,
        "invalid-api-params",
      );
      await createSession(s, "adm-sess");
      const sessions =
        await (await signed(s, "/x/admin/sessions?status=RUNNING&limit=10", {
          key: ADMIN,
        })).json();
      assertEquals(sessions.total, 1);
      await expectProblem(
        await signed(s, "/x/admin/sessions?status=BOGUS", { key: ADMIN }),
        400,
        "invalid-api-params",
      );
      await expectProblem(
        await signed(s, "/x/admin/agents/i-missing", { key: ADMIN }),
        404,
        "object-not-found",
      );
      const sg = await signed(s, "/x/admin/scaling-groups/gpu", {
        method: "PUT",
        key: ADMIN,
        body: { scheduler: "drf" },
      });
      assertEquals((await sg.json()).scheduler, "drf");
      // An admin may act for another keypair.
      const forOther = await signed(
        s,
        `/session/adm-sess?owner_access_key=${USER.accessKey}`,
        { key: ADMIN },
      );
      assertEquals((await forOther.json()).sessionName, "adm-sess");
    });
  },
);

dualTest(
  "real Backend.AI JS client (npm backend.ai-client@21.3.1) signs requests the gateway verifies",
  async () => {
    await withServer(async (s) => {
      const client = createBaiClient({ endpoint: s.base, ...USER });
      // v4 before the version handshake: /kernel/create.
      const v4 = await client.createIfNotExists("python:3.11", "jsv4-sess", {
        cpu: 1,
        mem: "1g",
      });
      assertEquals([v4.sessionName, v4.kernelId], ["jsv4-sess", v4.sessionId]);
      assertEquals((await client.getServerVersion()).version, "v6.20220315");
      assertEquals(await client.get_manager_version(), "standin-0.1");
      assertEquals(client.kernelPrefix, "/session");
      assertEquals(await client.get_resource_slots(), {
        cpu: "count",
        mem: "bytes",
        "cuda.device": "count",
      });
      const created = await client.createIfNotExists("python:3.11", "js-sess", {
        cpu: 1,
        mem: "512m",
      });
      assertEquals(created.created, true);
      const again = await client.createIfNotExists("python:3.11", "js-sess", {
        cpu: 1,
        mem: "512m",
      });
      assertEquals(again.created, false);
      const info = await client.get_info("js-sess");
      assertEquals(info.status, "RUNNING");
      const q = await client.execute(
        "js-sess",
        "jsrun001",
        "query",
        "x = input()",
        {},
      );
      assertEquals(q.result.status, "waiting-input");
      const i = await client.execute("js-sess", "jsrun001", "input", "42", {});
      assertEquals(i.result.console, [["stdout", "got 42\n"]]);
      const slow = await client.execute(
        "js-sess",
        "jsrun002",
        "query",
        "slow",
        {},
      );
      assertEquals(slow.result.status, "continued");
      const cont = await client.execute(
        "js-sess",
        "jsrun002",
        "continue",
        "",
        {},
      );
      assertEquals(cont.result.status, "finished");
      await client.restart("js-sess");
      const destroyed = await client.destroy("js-sess");
      assertExists(destroyed.stats);
      // Errors surface through the client's own error object.
      try {
        await client.get_info("problem-too-many-sessions-matched");
        throw new Error("expected a failure");
      } catch (err) {
        assert(isBaiClientError(err), String(err));
        assertEquals(err.statusCode, 404);
        assertEquals(err.title, "404 Not Found - Too many sessions matched.");
      }
      const wrong = createBaiClient({
        endpoint: s.base,
        accessKey: USER.accessKey,
        secretKey: "wrong",
      });
      try {
        await wrong.get_info("js-sess");
        throw new Error("expected a failure");
      } catch (err) {
        assert(isBaiClientError(err), String(err));
        assertEquals(err.statusCode, 401);
        assertNotEquals(err.description, undefined);
      }
    });
  },
);

/** A signed GET carrying a JSON body, as the Python SDK sends (fetch cannot). */
async function getWithBody(
  s: Server,
  target: string,
  body: unknown,
): Promise<{ status: number; text: string }> {
  const date = isoNow();
  const sig = await signature({
    secret: USER.secretKey,
    method: "GET",
    target,
    date,
    ymd: date.slice(0, 10).replaceAll("-", ""),
    host: s.host,
    contentType: "application/json",
    versionName: "x-backendai-version",
    version: "v6.20220315",
  });
  const payload = JSON.stringify(body);
  return await new Promise((resolve, reject) => {
    const req = http.request(s.base + target, {
      method: "GET",
      headers: {
        "Content-Type": "application/json",
        "Content-Length": String(enc.encode(payload).byteLength),
        "X-BackendAI-Date": date,
        "X-BackendAI-Version": "v6.20220315",
        Authorization:
          `BackendAI signMethod=HMAC-SHA256, credential=${USER.accessKey}:${sig}`,
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

Deno.test("[serveGateway] GET requests with JSON bodies (Python SDK download / list_files) are read", async () => {
  mode = "serveGateway";
  await withServer(async (s) => {
    await createSession(s, "pysdk-sess");
    const form = new FormData();
    form.append("src", new File(["py bytes"], "b.txt"));
    const up = await signed(s, "/session/pysdk-sess/upload", {
      method: "POST",
      rawBody: form,
      contentType: "multipart/form-data",
    });
    assertEquals(up.status, 204);
    const list = await getWithBody(s, "/session/pysdk-sess/files", {
      path: "sub/dir",
    });
    assertEquals([list.status, JSON.parse(list.text).path], [200, "sub/dir"]);
    const down = await getWithBody(s, "/session/pysdk-sess/download", {
      files: ["b.txt"],
    });
    assertEquals(down.status, 200);
    assert(down.text.includes("py bytes"), down.text);
    const bad = await getWithBody(
      s,
      "/session/pysdk-sess/files",
      "not an object",
    );
    assertEquals(bad.status, 400);
  });
});
