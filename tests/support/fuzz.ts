/**
 * Property-based fuzzing of the public API against a real cluster, with
 * `fast-check`: for every route the gateway mounts (read from the app's own
 * route table, so a new route is fuzzed without being listed here), signed
 * requests whose path segments, query strings, headers and bodies come from
 * the route's parameters (the names its schema reads) mixed with hostile
 * values: NUL, lone surrogates, bodies that are not UTF-8, huge and
 * non-finite numbers, deep nesting, long strings, wrong types, extra keys.
 *
 * The property: no 5xx (except `instance-not-available`, the documented
 * 503 for a request no agent could host), an answer within 5 s, and, checked
 * by the caller after the run, no leaked slot. Creates carry a small
 * `maxWaitSeconds` so that waiting for room is bounded by the request.
 *
 * Admin routes are fuzzed with path names no object has (each carries a
 * unique suffix), so the run cannot drain or stop the agent, deactivate its
 * own keypair or configure an autoscaler that starts processes.
 *
 * @module
 */
import fc from "fast-check";
import { createGateway } from "../../routes/app.ts";
import { createStandIn } from "./gateway_standin.ts";
import {
  computeSignature,
  signedContentType,
  SigningKeyCache,
} from "../../routes/auth.ts";
import type { Credentials } from "../../routes/cli/sign.ts";

/** One generated request. */
export interface FuzzRequest {
  method: string;
  /** Path and query as sent (already percent-encoded where it must be). */
  target: string;
  headers: Record<string, string>;
  /** JSON value, raw bytes, or nothing. */
  body?: { json: unknown } | { raw: Uint8Array<ArrayBuffer> };
  /** Who signs: the user keypair, the admin, nobody, or a wrong secret. */
  signer: "user" | "admin" | "anonymous" | "forged";
}

/** A failed property: what was sent and what came back. */
export interface FuzzFinding {
  request: FuzzRequest;
  status: number | "timeout" | "network";
  body: string;
  ms: number;
}

/** The routes the gateway mounts (method, path template), WebSocket ones as plain GETs. */
export function gatewayRoutes(): { method: string; path: string }[] {
  const app = createGateway(createStandIn().deps, { logError: () => {} });
  const seen = new Set<string>();
  const out: { method: string; path: string }[] = [];
  for (const r of app.routes) {
    const key = `${r.method} ${r.path}`;
    if (r.method === "ALL" || r.path.includes("*") || seen.has(key)) continue;
    seen.add(key);
    out.push({ method: r.method, path: r.path });
  }
  return out;
}

// ---------------------------------------------------------------- values

const HOSTILE_TEXT = [
  "\u0000",
  "a\u0000b",
  "\ud800",
  "x\udfff",
  "\ud83d",
  "../../python",
  "../../../etc/passwd",
  "%00",
  "%ZZ",
  "'; drop table sessions; --",
  "\u202eevil",
  "<script>alert(1)</script>",
  "",
  " ",
  "\r\nX-Injected: 1",
  "a/b",
  "a:b",
  "null",
  "__proto__",
  "constructor",
  "1e400",
  "-1",
  "9".repeat(400),
];

/** Strings, hostile ones often. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_TEXT) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 24 }) },
  { weight: 2, arbitrary: fc.string({ maxLength: 16 }) },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 1000, max: 300_000 }).map((n) =>
      "z".repeat(n)
    ),
  },
);

/** Numbers at the edges, and values of the wrong type. */
export const hostileScalar: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  fc.integer(),
  fc.double(),
  fc.constantFrom(
    0,
    -0,
    -1,
    -5,
    2 ** 31,
    2 ** 53 + 1,
    1e308,
    -1e308,
    Number.MAX_SAFE_INTEGER * 1000,
    0.5,
  ),
  fc.boolean(),
  fc.constant(null),
);

/** Any JSON-ish value, nesting included. */
export const hostileValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    hostileScalar,
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(hostileString, tie("value"), { maxKeys: 4 }),
  ),
})).value;

/**
 * Percent-encodes any string, lone surrogates included (as the three bytes
 * of their WTF-8 form, which is what a raw client would put on the wire;
 * `encodeURIComponent` throws on them).
 */
export function encodeAny(text: string): string {
  let out = "";
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0xd800 && cp <= 0xdfff) {
      out += [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f)]
        .map((b) => "%" + b.toString(16).toUpperCase().padStart(2, "0"))
        .join("");
    } else out += encodeURIComponent(ch);
  }
  return out;
}

/** A value for a named parameter: usually plausible, often hostile. */
function param(plausible: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 3, arbitrary: plausible }, {
    weight: 2,
    arbitrary: hostileValue,
  });
}

const sessionName = fc.constantFrom(
  "fz-live",
  "fz-a1",
  "fz-a2",
  "fz-a3",
  "fz-b1",
);
const code = fc.constantFrom(
  "print(1)",
  "x = 41",
  "print(x + 1)",
  "import time; time.sleep(0.2)",
  "raise ValueError('fuzz')",
  "input('?')",
  "print('\\x00')",
  "import os; os.listdir('.')",
  "1/0",
  "def f(:",
);

/** Bodies by route family: the names the route's schema reads. */
function bodyFor(method: string, path: string): fc.Arbitrary<unknown> {
  const extra = fc.dictionary(hostileString, hostileValue, { maxKeys: 2 });
  const object = (shape: Record<string, fc.Arbitrary<unknown>>) =>
    fc.tuple(fc.record(shape, { requiredKeys: [] }), extra).map((
      [known, more],
    ) => ({ ...more, ...known }));
  if (method === "POST" && /^\/(session|kernel)(\/create)?$/.test(path)) {
    return object({
      image: param(fc.constantFrom("python", "bash", "c", "julia")),
      lang: param(fc.constant("python")),
      name: param(sessionName),
      clientSessionToken: param(sessionName),
      type: param(fc.constantFrom("interactive", "batch")),
      startupCommand: param(fc.constant("python3 main.py")),
      enqueueOnly: param(fc.boolean()),
      // Bounded waits: a create that cannot start at once answers soon.
      maxWaitSeconds: fc.oneof(
        fc.integer({ min: 1, max: 3 }),
        fc.constantFrom("2", -1, "x", 1e400),
      ),
      reuseIfExists: param(fc.boolean()),
      tag: param(fc.string({ maxLength: 8 })),
      bootstrapScript: param(fc.constantFrom("cHJpbnQoMSk=", "!!notbase64")),
      config: param(object({
        resources: param(object({
          cpu: param(fc.constantFrom(1, "1", 0.5, 64, -1)),
          mem: param(fc.constantFrom("256m", "1g", "lots", 1 << 28, "-1g")),
          "cuda.device": param(fc.constantFrom(0, 1)),
        })),
        resourceOpts: param(fc.dictionary(hostileString, hostileValue)),
        mounts: param(fc.array(hostileString, { maxLength: 2 })),
        environ: param(fc.dictionary(hostileString, hostileString, {
          maxKeys: 3,
        })),
        scalingGroup: param(fc.constantFrom("default", "nowhere")),
        preopenPorts: param(fc.array(fc.integer(), { maxLength: 2 })),
        scaleInProtected: param(fc.boolean()),
      })),
    });
  }
  if (method === "POST" && /\/:ref$/.test(path)) {
    return object({
      mode: param(fc.constantFrom("query", "batch", "continue", "input")),
      code: param(code),
      runId: param(fc.oneof(
        fc.constant(null),
        fc.string({
          unit: fc.constantFrom(..."0123456789abcdef"),
          minLength: 16,
          maxLength: 16,
        }),
      )),
      options: param(fc.dictionary(hostileString, hostileValue)),
    });
  }
  if (path.endsWith("/complete")) {
    return object({
      code: param(code),
      options: param(object({
        row: param(fc.integer()),
        col: param(fc.integer()),
        line: param(hostileString),
      })),
    });
  }
  if (path.includes("/x/admin/keypairs")) {
    return object({
      userId: param(fc.string({ maxLength: 8 })),
      isAdmin: param(fc.boolean()),
      rateLimit: param(fc.integer({ min: 1, max: 5000 })),
      resourcePolicy: param(fc.constantFrom("default", "nosuch")),
    });
  }
  if (path.includes("/resource-policies")) {
    return object({
      totalResourceSlots: param(object({
        cpu: param(fc.constantFrom(1, "abc", -5, "4")),
        mem: param(fc.constantFrom("4g", "lots", 1 << 30)),
      })),
      maxConcurrentSessions: param(fc.integer({ min: 0, max: 10 })),
      idleTimeout: param(fc.integer({ min: 0, max: 10_000 })),
      dailyCostLimit: param(fc.oneof(fc.constant(null), fc.double())),
      maxSessions: param(fc.integer()),
    });
  }
  if (path.includes("/scaling-groups")) {
    return object({
      isActive: param(fc.boolean()),
      scheduler: param(fc.constantFrom("fifo", "lifo", "drf", "nope")),
      schedulerOpts: param(fc.dictionary(hostileString, hostileValue)),
      minAgents: param(fc.integer()),
    });
  }
  return fc.oneof(
    extra,
    object({
      files: param(fc.array(hostileString, { maxLength: 2 })),
      path: param(hostileString),
      query: param(hostileString),
      variables: param(fc.dictionary(hostileString, hostileValue)),
    }),
  );
}

/** A path segment for `:param`: real names for session refs, never-existing ones elsewhere. */
function segmentFor(name: string, isAdmin: boolean): fc.Arbitrary<string> {
  // URLs stay under what fetch accepts (a longer one never leaves the client).
  const hostile = hostileString.map((s) => encodeAny(s.slice(0, 2000)));
  const rawHostile = fc.constantFrom("a%00b", "%ZZ", "%ED%A0%80", "..", ".");
  if (isAdmin) {
    // Unique: no admin request can name an object that exists.
    return fc.tuple(
      fc.oneof(hostile, rawHostile, fc.constant("fz")),
      fc.uuid(),
    ).map(([s, u]) => `${s}-${u.slice(0, 8)}`);
  }
  return name === "ref"
    ? fc.oneof(
      { weight: 3, arbitrary: sessionName },
      { weight: 1, arbitrary: hostile },
      { weight: 1, arbitrary: rawHostile },
    )
    : fc.oneof(hostile, rawHostile);
}

const queryString: fc.Arbitrary<string> = fc.dictionary(
  fc.oneof(
    fc.constantFrom(
      "accessKey",
      "status",
      "limit",
      "offset",
      "owner_access_key",
      "name",
      "sessionId",
      "files",
      "path",
      "forced",
      "scalingGroup",
    ),
    hostileString,
  ),
  hostileString,
  { maxKeys: 3 },
).map((q) => {
  const parts = Object.entries(q).map(([k, v]) =>
    `${encodeAny(k.slice(0, 2000))}=${encodeAny(v.slice(0, 6000))}`
  );
  return parts.length ? `?${parts.join("&")}` : "";
});

const headers: fc.Arbitrary<Record<string, string>> = fc.record({
  "X-Method-Override": fc.constantFrom(
    "GET",
    "PUT",
    "TRACE",
    "CONNECT",
    "FOO",
    "",
    "delete",
  ),
  "Content-Type": fc.constantFrom(
    "application/json",
    "text/plain",
    "multipart/form-data",
    "multipart/form-data; boundary=x",
    "application/x-www-form-urlencoded",
  ),
  "X-BackendAI-Version": fc.constantFrom(
    "v4.20181215",
    "v5.20191215",
    "v6.20220315",
    "v9.99999999",
  ),
  Upgrade: fc.constant("websocket"),
  "Sec-WebSocket-Version": fc.constantFrom("13", "99"),
  "X-Junk": hostileString.map((s) =>
    // Only what a header can carry (fetch refuses the rest before sending).
    s.replace(/[^\x20-\x7e]/g, "").slice(0, 200)
  ),
}, { requiredKeys: [] });

const rawBody: fc.Arbitrary<Uint8Array<ArrayBuffer>> = fc.oneof(
  fc.constant(new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])),
  fc.integer({ min: 100, max: 50_000 }).map((n) =>
    new TextEncoder().encode(`{"a":${"[".repeat(n)}${"]".repeat(n)}}`)
  ),
  fc.constant(new TextEncoder().encode('{"maxWaitSeconds":1e400,"x":-1e400}')),
  fc.constant(new TextEncoder().encode("x".repeat((1 << 20) + 10))),
  fc.uint8Array({ maxLength: 64 }).map((a) => new Uint8Array(a)),
);

/** Requests over every route of the gateway. */
export function requestArbitrary(): fc.Arbitrary<FuzzRequest> {
  const routes = gatewayRoutes();
  return fc.constantFrom(...routes).chain(({ method, path }) => {
    const isAdmin = path.startsWith("/x/admin") || path.startsWith("/admin");
    const names = [...path.matchAll(/:(\w+)/g)].map((m) => m[1]);
    return fc.record({
      segments: fc.tuple(...names.map((n) => segmentFor(n, isAdmin))),
      query: queryString,
      headers,
      body: fc.oneof(
        {
          weight: 4,
          arbitrary: bodyFor(method, path).map((json) => ({ json })),
        },
        { weight: 1, arbitrary: rawBody.map((raw) => ({ raw })) },
        { weight: 1, arbitrary: fc.constant(undefined) },
      ),
      signer: fc.oneof(
        { weight: 8, arbitrary: fc.constant(isAdmin ? "admin" : "user") },
        {
          weight: 1,
          arbitrary: fc.constantFrom("anonymous", "forged", "user", "admin"),
        },
      ),
      // Some of the time, the override and upgrade headers are left out.
      plain: fc.boolean(),
    }).map(({ segments, query, headers, body, signer, plain }) => {
      let i = 0;
      const target = path.replace(/:(\w+)/g, () => segments[i++]) + query;
      const h = plain
        ? { "Content-Type": headers["Content-Type"] ?? "application/json" }
        : headers;
      return {
        method,
        target,
        headers: h,
        body,
        signer: signer as FuzzRequest["signer"],
      };
    });
  });
}

// ---------------------------------------------------------------- sending

const keys = new SigningKeyCache();
const EMPTY_SHA256 =
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/** Sends `req` signed as asked; resolves with what came back (never throws). */
export async function send(
  endpoint: string,
  req: FuzzRequest,
  creds: { user: Credentials; admin: Credentials },
  timeoutMs = 5000,
): Promise<FuzzFinding> {
  const url = new URL(endpoint);
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    try {
      headers.set(k, v);
    } catch { /* a value fetch refuses */ }
  }
  let body: BodyInit | undefined;
  if (req.body && "json" in req.body) {
    body = JSON.stringify(req.body.json);
  } else if (req.body && "raw" in req.body) body = req.body.raw;
  if (req.method === "GET" || req.method === "HEAD") {
    // fetch cannot send a GET body; the query carries the parameters.
    body = undefined;
  }
  const date = new Date().toISOString();
  headers.set("Date", date);
  if (!headers.has("X-BackendAI-Version")) {
    headers.set("X-BackendAI-Version", "v6.20220315");
  }
  if (req.signer !== "anonymous") {
    const who = req.signer === "admin" ? creds.admin : creds.user;
    const secret = req.signer === "forged" ? "not-the-secret" : who.secretKey;
    const sig = computeSignature(
      keys,
      "sha256",
      secret,
      date.slice(0, 10).replaceAll("-", ""),
      {
        method: req.method,
        target: req.target,
        date,
        host: url.host,
        contentType: signedContentType(headers.get("Content-Type")),
        versionHeaderName: "x-backendai-version",
        version: headers.get("X-BackendAI-Version")!,
        bodyHash: EMPTY_SHA256,
      },
    );
    headers.set(
      "Authorization",
      `BackendAI signMethod=HMAC-SHA256, credential=${who.accessKey}:${sig}`,
    );
  }
  const t0 = performance.now();
  try {
    const res = await fetch(endpoint + req.target, {
      method: req.method,
      headers,
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    // An event stream never ends by design: its answer is the head.
    const streaming = res.headers.get("content-type")?.startsWith(
      "text/event-stream",
    );
    const text = streaming
      ? (await res.body?.cancel(), "<event stream>")
      : await res.text();
    return {
      request: req,
      status: res.status,
      body: text.slice(0, 400),
      ms: performance.now() - t0,
    };
  } catch (e) {
    const timeout = e instanceof DOMException && e.name === "TimeoutError";
    return {
      request: req,
      status: timeout ? "timeout" : "network",
      body: String(e).slice(0, 400),
      ms: performance.now() - t0,
    };
  }
}

/** Whether an answer breaks the property (see the module doc). */
export function violates(f: FuzzFinding): boolean {
  if (f.status === "timeout") return true;
  // A connection the server closed on purpose (a body past the limit on a
  // GET, headers fetch itself rejects) is not an answer but no failure.
  if (f.status === "network") return false;
  if (f.status < 500) return false;
  return !(f.status === 503 && f.body.includes("instance-not-available"));
}

async function alive(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(endpoint + "/", {
      signal: AbortSignal.timeout(3000),
    });
    await res.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

/** Options of {@link runFuzz}. */
export interface FuzzOptions {
  seed: number;
  /** Stop after this long (the run is then not a failure). */
  timeLimitMs: number;
  /** Called for each answer (counts, logs). */
  onAnswer?: (f: FuzzFinding) => void;
}

/** Runs the property until the time limit or the first violation. */
export async function runFuzz(
  endpoint: string,
  creds: { user: Credentials; admin: Credentials },
  options: FuzzOptions,
): Promise<{ runs: number; failure?: FuzzFinding }> {
  let runs = 0;
  let failure: FuzzFinding | undefined;
  try {
    await fc.assert(
      fc.asyncProperty(requestArbitrary(), async (req) => {
        runs++;
        const f = await send(endpoint, req, creds);
        options.onAnswer?.(f);
        if (f.status === "network" && !(await alive(endpoint))) {
          // No answer, and the server no longer answers anyone: a crash.
          failure = { ...f, body: `the server stopped answering: ${f.body}` };
          return false;
        }
        if (violates(f)) {
          failure = f;
          return false;
        }
        return true;
      }),
      {
        seed: options.seed,
        numRuns: 1_000_000,
        interruptAfterTimeLimit: options.timeLimitMs,
        markInterruptAsFailure: false,
        endOnFailure: true,
      },
    );
  } catch (e) {
    if (!failure) throw e;
  }
  return { runs, failure };
}
