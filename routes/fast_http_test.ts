import { assertEquals, assertMatch } from "../tests/support/assert.ts";
import { parseSimpleHead } from "./fast_http.ts";
import { serveGateway } from "./serve.ts";
import { preloadedBody } from "./override.ts";

const head = (lines: string[]) => lines.join("\r\n");

Deno.test("fast path: simple heads are parsed, anything odd is left to node:http", () => {
  const ok = parseSimpleHead(head([
    "POST /session/x HTTP/1.1",
    "Host: 127.0.0.1:8081",
    "Content-Type: application/json",
    "Content-Length: 12",
    "Connection: close",
  ]));
  assertEquals(ok?.method, "POST");
  assertEquals(ok?.target, "/session/x");
  assertEquals(ok?.host, "127.0.0.1:8081");
  assertEquals([ok?.length, ok?.close, ok?.websocket], [12, true, false]);
  const ws = parseSimpleHead(head([
    "GET /stream/session/x/execute HTTP/1.1",
    "Host: h",
    "Upgrade: websocket",
    "Connection: Upgrade",
  ]));
  assertEquals(ws?.websocket, true);
  const odd: [string, string[]][] = [
    ["HTTP/1.0", ["GET / HTTP/1.0", "Host: h"]],
    ["no Host", ["GET / HTTP/1.1", "Accept: */*"]],
    ["two Hosts", ["GET / HTTP/1.1", "Host: a", "Host: b"]],
    ["a chunked body", [
      "POST / HTTP/1.1",
      "Host: h",
      "Transfer-Encoding: chunked",
    ]],
    ["Expect", ["POST / HTTP/1.1", "Host: h", "Expect: 100-continue"]],
    ["two lengths", [
      "POST / HTTP/1.1",
      "Host: h",
      "Content-Length: 1",
      "Content-Length: 1",
    ]],
    ["a signed length", ["POST / HTTP/1.1", "Host: h", "Content-Length: +1"]],
    ["an unknown method", ["BREW / HTTP/1.1", "Host: h"]],
    ["an absolute target", ["GET http://h/ HTTP/1.1", "Host: h"]],
    ["obs-fold", ["GET / HTTP/1.1", "Host: h", "X-A: 1", " folded"]],
    ["a control byte", ["GET / HTTP/1.1", "Host: h", "X-A: a\u0001b"]],
    ["a bad header name", ["GET / HTTP/1.1", "Host: h", "X A: 1"]],
    ["another upgrade", [
      "GET / HTTP/1.1",
      "Host: h",
      "Upgrade: h2c",
      "Connection: Upgrade",
    ]],
    ["a half-said upgrade", [
      "GET / HTTP/1.1",
      "Host: h",
      "Upgrade: websocket",
    ]],
    ["a host with a path", ["GET / HTTP/1.1", "Host: h/x"]],
  ];
  for (const [why, lines] of odd) {
    assertEquals(parseSimpleHead(head(lines)), undefined, why);
  }
});

/** Raw HTTP/1.1 over one connection: writes `bytes`, reads until `n` replies are complete. */
async function exchange(port: number, bytes: string, n: number) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(new TextEncoder().encode(bytes));
  let text = "";
  const buf = new Uint8Array(65536);
  const replies = () => text.split("HTTP/1.1 ").length - 1;
  while (replies() < n || !complete(text)) {
    const r = await conn.read(buf);
    if (r === null) break;
    text += new TextDecoder().decode(buf.subarray(0, r));
  }
  conn.close();
  return text;
}

/** Whether the last reply in `text` has all of its (sized or chunked) body. */
function complete(text: string): boolean {
  const last = text.lastIndexOf("HTTP/1.1 ");
  const end = text.indexOf("\r\n\r\n", last);
  if (end < 0) return false;
  const h = text.slice(last, end).toLowerCase();
  const m = /content-length: (\d+)/.exec(h);
  if (m) return text.length - (end + 4) >= Number(m[1]);
  return text.endsWith("0\r\n\r\n");
}

Deno.test("fast path: pipelined requests, GET bodies, and a connection handed to node:http mid-way (answered, then closed)", async () => {
  const seen: string[] = [];
  const server = await serveGateway({
    async fetch(req: Request) {
      const body = req.method === "GET"
        ? new TextDecoder().decode(preloadedBody(req) ?? new Uint8Array())
        : await req.text();
      seen.push(`${req.method} ${new URL(req.url).pathname} ${body}`);
      return Response.json({ ok: true, body });
    },
  }, { port: 0 });
  try {
    const text = await exchange(
      server.port,
      "GET /a HTTP/1.1\r\nHost: h\r\n\r\n" +
        "GET /b HTTP/1.1\r\nHost: h\r\nContent-Length: 13\r\n\r\n" +
        '{"path":"x"}\n' +
        // chunked: not simple, so node:http takes the connection from here
        "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" +
        "5\r\nhello\r\n0\r\n\r\n" +
        "GET /d HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
      3,
    );
    // node:http answers the handed-over request and closes the connection
    // (one request per connection it serves, see serve.ts): GET /d was not
    // answered, so a client sends it again on a new connection, as HTTP
    // clients do with pipelined requests after a `Connection: close`.
    assertEquals(seen.filter((s) => s !== "GET /d ").sort(), [
      "GET /a ",
      'GET /b {"path":"x"}\n',
      "POST /c hello",
    ]);
    assertEquals(text.split("HTTP/1.1 200").length - 1, 3, text);
    const replies = text.split("HTTP/1.1 ").slice(1);
    const bodies = replies.map((r) =>
      JSON.parse(r.slice(r.indexOf("\r\n\r\n") + 4)).body
    );
    assertEquals(bodies, ["", '{"path":"x"}\n', "hello"]);
    assertMatch(replies[2], /\r\nConnection: close\r\n/i);
  } finally {
    await server.shutdown();
  }
});

Deno.test("fast path: a POST body is handed over preloaded, and the Request keeps its own", async () => {
  const seen: string[] = [];
  const server = await serveGateway({
    async fetch(req: Request) {
      const pre = preloadedBody(req);
      seen.push(
        `${pre ? new TextDecoder().decode(pre) : "(none)"} | ${await req
          .text()}`,
      );
      return Response.json({ ok: true });
    },
  }, { port: 0 });
  try {
    const text = await exchange(
      server.port,
      "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello" +
        "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
      2,
    );
    assertEquals(text.split("HTTP/1.1 200").length - 1, 2, text);
    assertEquals(seen, ["hello | hello", "(none) | "]);
  } finally {
    await server.shutdown();
  }
});
