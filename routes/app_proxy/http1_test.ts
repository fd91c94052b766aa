import assert from "node:assert/strict";
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

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A source handing out `parts` one read at a time (split anywhere). */
function source(...parts: string[]) {
  const q = parts.map((p) => enc.encode(p));
  return { read: () => Promise.resolve(q.shift() ?? null) };
}

async function text(s: ReadableStream<Uint8Array>): Promise<string> {
  return await new Response(s).text();
}

Deno.test("http1: a head split across reads, 100 Continue skipped, Content-Length body", async () => {
  const r = new StreamReader(
    source(
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Le",
      "ngth: 5\r\nX-A: 1\r\n\r\nhel",
      "loNEXT",
    ),
  );
  const head = (await readResponseHead(r))!;
  assert.equal(head.status, 200);
  assert.equal(head.headers.get("x-a"), "1");
  const f = framingOf(head, "GET");
  assert.deepEqual(f, { kind: "length", bytes: 5 });
  let clean: boolean | undefined;
  assert.equal(await text(bodyStream(r, f, (c) => (clean = c))), "hello");
  assert.equal(clean, true);
  assert.ok(reusable(head, f));
  assert.equal(r.buffered, 4, "the next message's bytes stay buffered");
});

Deno.test("http1: chunked bodies decode, with extensions and trailers", async () => {
  const r = new StreamReader(
    source(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
      "4;x=y\r\nWiki\r\n5\r\npedia\r\n0\r\nT: v\r\n\r\n",
    ),
  );
  const head = (await readResponseHead(r))!;
  const f = framingOf(head, "GET");
  assert.equal(f.kind, "chunked");
  assert.equal(await text(bodyStream(r, f, () => {})), "Wikipedia");
});

Deno.test("http1: no body for HEAD/204/304; close-delimited for HTTP/1.0", async () => {
  const head = (await readResponseHead(
    new StreamReader(source("HTTP/1.1 204 No Content\r\n\r\n")),
  ))!;
  assert.deepEqual(framingOf(head, "GET"), { kind: "none" });
  const ok = (await readResponseHead(
    new StreamReader(source("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n")),
  ))!;
  assert.deepEqual(framingOf(ok, "HEAD"), { kind: "none" });
  const r = new StreamReader(source("HTTP/1.0 200 OK\r\n\r\nuntil", " close"));
  const old = (await readResponseHead(r))!;
  const f = framingOf(old, "GET");
  assert.equal(f.kind, "close");
  assert.ok(!reusable(old, f));
  let clean: boolean | undefined;
  assert.equal(await text(bodyStream(r, f, (c) => (clean = c))), "until close");
  assert.equal(clean, false, "a close-delimited connection is never reused");
});

Deno.test("http1: garbage, a truncated body and an endless head are errors", async () => {
  await assert.rejects(
    readResponseHead(new StreamReader(source("SSH-2.0-OpenSSH\r\n\r\n"))),
    UpstreamError,
  );
  const r = new StreamReader(
    source("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"),
  );
  const head = (await readResponseHead(r))!;
  let clean: boolean | undefined;
  await assert.rejects(
    text(bodyStream(r, framingOf(head, "GET"), (c) => (clean = c))),
    UpstreamError,
  );
  assert.equal(clean, false);
  await assert.rejects(
    readResponseHead(
      new StreamReader(
        source("HTTP/1.1 200 OK\r\n" + "X: y\r\n".repeat(20000)),
      ),
    ),
    UpstreamError,
  );
  assert.equal(await readResponseHead(new StreamReader(source())), null);
});

Deno.test("http1: request heads drop hop-by-hop headers and refuse injection", () => {
  const h = new Headers({
    Connection: "keep-alive, X-Hop",
    "X-Hop": "1",
    "Keep-Alive": "5",
    Upgrade: "h2c",
    Accept: "*/*",
  });
  h.append("set-cookie", "a=1");
  h.append("set-cookie", "b=2");
  const kept = endToEnd(h);
  assert.deepEqual(kept, [["accept", "*/*"], ["set-cookie", "a=1"], [
    "set-cookie",
    "b=2",
  ]]);
  const head = dec.decode(requestHead("GET", "/x/apps/s/j/?a=1", kept));
  assert.equal(
    head,
    "GET /x/apps/s/j/?a=1 HTTP/1.1\r\naccept: */*\r\nset-cookie: a=1\r\nset-cookie: b=2\r\n\r\n",
  );
  assert.throws(() => requestHead("GET", "/a b", []), UpstreamError);
  assert.throws(() => requestHead("G\rET", "/", []), UpstreamError);
  assert.equal(dec.decode(chunk(enc.encode("abc"))), "3\r\nabc\r\n");
  assert.equal(dec.decode(chunk(new Uint8Array(0))), "0\r\n\r\n");
});
