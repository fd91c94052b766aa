/**
 * Regressions of issue 18's "total input handling" at the HTTP edge, over
 * real HTTP (serveGateway, the listener the manager uses) against the
 * in-memory stand-in: every hostile input is a 4xx problem, never a 500.
 *
 * - NUL and lone surrogates in body members, keys, query values and path
 *   segments; bodies that are not UTF-8; nesting past 64 levels;
 * - a credential whose access key has `/` or is empty;
 * - `X-Method-Override: TRACE | CONNECT | FOO`;
 * - WebSocket upgrades without `Sec-WebSocket-Key` (400) or with
 *   `Sec-WebSocket-Version: 99` (426 naming 13);
 * - strict `/x/admin` bodies (`{"maxSessions": 1}` names the key) and slot
 *   values (`"abc"`, `-5`; `mem` takes binary sizes, stored as numbers);
 * - image references such as `../../python`;
 * - a client dribbling its headers is cut at the header deadline, and
 *   connections past `maxConnections` are refused, while others are served.
 */
import { createGateway } from "../routes/app.ts";
import { serveGateway } from "../routes/serve.ts";
import { signedFetch, signingHeaders } from "../routes/cli/sign.ts";
import { ADMIN, createStandIn, USER } from "./support/gateway_standin.ts";
import { resolveImage } from "../images/catalog.ts";
import { assert, assertEquals } from "./support/assert.ts";
import { signedContentType } from "../routes/auth.ts";

async function gateway(options: Parameters<typeof serveGateway>[1] = {}) {
  const standIn = createStandIn();
  const app = createGateway(standIn.deps, { logError: () => {} });
  const server = await serveGateway(app, options);
  return {
    endpoint: `http://127.0.0.1:${server.port}`,
    port: server.port,
    standIn,
    shutdown: () => server.shutdown(),
  };
}

async function problem(res: Response): Promise<Record<string, unknown>> {
  assertEquals(
    res.headers.get("content-type"),
    "application/problem+json",
    `status ${res.status}`,
  );
  return await res.json();
}

/** A signed request with `body` bytes as given (a string body cannot carry bad UTF-8). */
function rawSigned(
  endpoint: string,
  method: string,
  path: string,
  body: Uint8Array<ArrayBuffer>,
): Promise<Response> {
  const headers = signedRequestHeaders(endpoint, method, path);
  headers.set("Content-Type", "application/json");
  return fetch(new URL(path, endpoint), { method, headers, body });
}

/** The signing headers of one request, with `Date` (not `X-BackendAI-Date`) carrying the time. */
function signedRequestHeaders(
  endpoint: string,
  method: string,
  path: string,
  contentType: string | null = "application/json",
  creds = USER,
): Headers {
  const headers = signingHeaders(
    creds,
    method,
    new URL(path, endpoint),
    signedContentType(contentType),
  );
  delete (headers as Record<string, string | undefined>)["X-BackendAI-Date"];
  return new Headers(headers);
}

Deno.test("edge: NUL, lone surrogates, non-UTF-8 and deep nesting are 400s, wherever they are", async () => {
  const g = await gateway();
  try {
    const post = (body: unknown) =>
      signedFetch(g.endpoint, USER, "POST", "/session", body);
    for (
      const [what, body] of [
        ["tag", { image: "python", name: "nul1", tag: "a\u0000b" }],
        ["environ value", {
          image: "python",
          name: "nul2",
          config: { environ: { A: "x\u0000" } },
        }],
        ["environ key", {
          image: "python",
          name: "nul3",
          config: { environ: { "A\u0000": "x" } },
        }],
        ["resource opts", {
          image: "python",
          name: "nul4",
          config: { resourceOpts: { shmem: ["\u0000"] } },
        }],
        ["scaling group", {
          image: "python",
          name: "nul5",
          config: { scalingGroup: "g\u0000" },
        }],
        ["lone surrogate", { image: "python", name: "sur1", tag: "\ud800" }],
      ] as const
    ) {
      const res = await post(body);
      assertEquals(res.status, 400, what);
      const p = await problem(res);
      assertEquals(p.type, "https://api.backend.ai/probs/invalid-api-params");
    }
    assertEquals(g.standIn.sessions.size, 0, "nothing was created");

    // Not UTF-8 at all.
    const bad = await rawSigned(
      g.endpoint,
      "POST",
      "/session",
      new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
    );
    assertEquals(bad.status, 400);
    await bad.body?.cancel();

    // Deeper than 64 levels.
    const deep = await rawSigned(
      g.endpoint,
      "POST",
      "/session",
      new TextEncoder().encode(
        '{"image":"python","name":"deep1","config":{"resourceOpts":' +
          "[".repeat(100_000) + "]".repeat(100_000) + "}}",
      ),
    );
    assertEquals(deep.status, 400);
    await deep.body?.cancel();

    for (
      const path of [
        "/session/a%00b",
        "/session/a%ZZb",
        "/session/%ED%A0%80",
        "/x/admin/sessions?accessKey=a%00b",
        "/session/demo/files?path=a%00b",
      ]
    ) {
      const res = await signedFetch(
        g.endpoint,
        path.startsWith("/x/admin") ? ADMIN : USER,
        "GET",
        path,
      );
      assertEquals(res.status, 400, path);
      await problem(res);
    }
  } finally {
    await g.shutdown();
  }
});

Deno.test("edge: a credential with `/` or an empty access key is 400 before any look-up", async () => {
  const g = await gateway();
  try {
    for (const accessKey of ["a/b", "", "a b"]) {
      const res = await signedFetch(
        g.endpoint,
        {
          accessKey,
          secretKey: "x",
        },
        "GET",
        "/session/x",
      );
      assertEquals(res.status, 400, JSON.stringify(accessKey));
      const p = await problem(res);
      assertEquals(p.type, "https://api.backend.ai/probs/invalid-auth-params");
    }
  } finally {
    await g.shutdown();
  }
});

Deno.test("edge: X-Method-Override naming TRACE, CONNECT or an unknown method is 400", async () => {
  const g = await gateway();
  try {
    for (const m of ["TRACE", "CONNECT", "FOO", "get\u0001"]) {
      const res = await signedFetch(
        g.endpoint,
        USER,
        "POST",
        "/session/x",
        {},
        {
          headers: { "X-Method-Override": m },
        },
      ).catch(() => undefined);
      if (!res) continue; // a header fetch itself refuses (control bytes)
      assertEquals(res.status, 400, m);
      const p = await problem(res);
      assertEquals(p.type, "https://api.backend.ai/probs/generic-bad-request");
    }
    // A supported one still works.
    const ok = await signedFetch(
      g.endpoint,
      USER,
      "POST",
      "/session/nosuch",
      {},
      {
        headers: { "X-Method-Override": "GET" },
      },
    );
    assertEquals(ok.status, 404);
    await ok.body?.cancel();
  } finally {
    await g.shutdown();
  }
});

/** Sends a raw upgrade request and reads the status line and headers. */
async function rawUpgrade(
  port: number,
  path: string,
  extra: Record<string, string>,
): Promise<{ status: number; headers: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const auth = signedRequestHeaders(
      `http://127.0.0.1:${port}`,
      "GET",
      path,
      null,
    );
    const lines = [
      `GET ${path} HTTP/1.1`,
      `Host: 127.0.0.1:${port}`,
      "Connection: Upgrade",
      "Upgrade: websocket",
      ...[...auth].map(([k, v]) => `${k}: ${v}`),
      ...Object.entries(extra).map(([k, v]) => `${k}: ${v}`),
    ];
    await conn.write(new TextEncoder().encode(lines.join("\r\n") + "\r\n\r\n"));
    const buf = new Uint8Array(4096);
    let text = "";
    while (!text.includes("\r\n\r\n")) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
    return { status: Number(text.split(" ")[1]), headers: text.toLowerCase() };
  } finally {
    conn.close();
  }
}

Deno.test("edge: WebSocket upgrade without Sec-WebSocket-Key is 400, version 99 is 426 naming 13", async () => {
  const g = await gateway();
  try {
    const path = "/stream/session/demo/execute";
    const noKey = await rawUpgrade(g.port, path, {
      "Sec-WebSocket-Version": "13",
    });
    assertEquals(noKey.status, 400);
    const v99 = await rawUpgrade(g.port, path, {
      "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
      "Sec-WebSocket-Version": "99",
    });
    assertEquals(v99.status, 426);
    assert(v99.headers.includes("sec-websocket-version: 13"), v99.headers);
    const good = await rawUpgrade(g.port, path, {
      "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
      "Sec-WebSocket-Version": "13",
    });
    assertEquals(good.status, 101);
  } finally {
    await g.shutdown();
  }
});

Deno.test("edge: our admin bodies are strict and slot values are checked", async () => {
  const g = await gateway();
  try {
    const put = (body: unknown) =>
      signedFetch(
        g.endpoint,
        ADMIN,
        "PUT",
        "/x/admin/resource-policies/X",
        body,
      );
    const typo = await put({ maxSessions: 1 });
    assertEquals(typo.status, 400);
    const p = await problem(typo);
    assert(String(p.msg).includes("maxSessions"), String(p.msg));
    for (
      const slots of [{ cpu: "abc", mem: "lots" }, { cpu: -5 }, {
        mem: "-1g",
      }, { gpu: 1 }]
    ) {
      const res = await put({ totalResourceSlots: slots });
      assertEquals(res.status, 400, JSON.stringify(slots));
      await res.body?.cancel();
    }
    const ok = await put({ totalResourceSlots: { cpu: "4", mem: "2g" } });
    assertEquals(ok.status, 200);
    const stored = await ok.json();
    assertEquals(stored.totalResourceSlots, { cpu: 4, mem: 2 ** 31 });
    for (
      const [path, body] of [
        ["/x/admin/keypairs", { isAdmin: false, resource_polcy: "x" }],
        ["/x/admin/scaling-groups/g1", { sheduler: "fifo" }],
      ] as const
    ) {
      const res = await signedFetch(
        g.endpoint,
        ADMIN,
        path.includes("scaling") ? "PUT" : "POST",
        path,
        body,
      );
      assertEquals(res.status, 400, path);
      await res.body?.cancel();
    }
  } finally {
    await g.shutdown();
  }
});

Deno.test("edge: image names that are no image reference resolve to nothing", () => {
  for (
    const bad of ["../../python", "python/", "/python", "a//python", "py thon"]
  ) {
    assertEquals(resolveImage(bad), undefined, bad);
  }
  for (
    const good of [
      "python",
      "bai/python:3.11-bookworm",
      "cr.backend.ai/stable/python:3.9",
      "localhost:5000/python:1",
    ]
  ) {
    assertEquals(resolveImage(good)?.name, "python", good);
  }
});

Deno.test("edge: a client dribbling its headers is cut at the deadline; connections past the limit are refused; others are served", async () => {
  const g = await gateway({ headersTimeoutMs: 600, maxConnections: 8 });
  try {
    const slow = await Deno.connect({ hostname: "127.0.0.1", port: g.port });
    const t0 = performance.now();
    const cut = (async () => {
      const enc = new TextEncoder();
      for (
        const ch
          of "GET / HTTP/1.1\r\nHost: x\r\nX-A: bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\r\n\r\n"
      ) {
        try {
          await slow.write(enc.encode(ch));
        } catch {
          return performance.now() - t0;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      return undefined;
    })();
    // Served meanwhile.
    const res = await fetch(`${g.endpoint}/`);
    assertEquals(res.status, 200);
    await res.body?.cancel();
    const after = await cut;
    assert(after !== undefined, "the slow client was never cut");
    slow.close();

    // Idle connections up to the limit; the next ones are closed at once.
    const idle: Deno.TcpConn[] = [];
    for (let i = 0; i < 12; i++) {
      idle.push(await Deno.connect({ hostname: "127.0.0.1", port: g.port }));
    }
    const refusedCount = (await Promise.all(idle.map(async (c) => {
      const buf = new Uint8Array(16);
      const n = await Promise.race([
        c.read(buf).catch(() => null),
        new Promise<"open">((r) => setTimeout(() => r("open"), 300)),
      ]);
      return n === null ? 1 : 0;
    }))).reduce((a: number, b: number) => a + b, 0);
    assert(
      refusedCount >= 4,
      `refused ${refusedCount} of 12 over a limit of 8`,
    );
    for (const c of idle) {
      try {
        c.close();
      } catch { /* closed */ }
    }
    // Room again.
    await new Promise((r) => setTimeout(r, 100));
    const again = await fetch(`${g.endpoint}/`);
    assertEquals(again.status, 200);
    await again.body?.cancel();
  } finally {
    await g.shutdown();
  }
});
