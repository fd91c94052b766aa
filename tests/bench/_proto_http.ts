// temporary (issue 17): prototype HTTP/1.1 servers (node:net and Deno.listen) over the stand-in app
import net from "node:net";
import { createGateway } from "../../routes/app.ts";
import { createStandIn, USER } from "../support/gateway_standin.ts";
import { preloadBody } from "../../routes/override.ts";
import { serveGateway } from "../../routes/serve.ts";

const standIn = createStandIn();
const app = createGateway(standIn.deps, { defaultRateLimit: 1e9 });
const created = await standIn.deps.sessions.create({ accessKey: USER.accessKey, requester: USER.accessKey, isAdmin: false }, {
  image: "python:3.11", name: "bench-sess", type: "interactive", enqueueOnly: false, maxWaitSeconds: 0, reuseIfExists: true,
  config: { resources: {}, resourceOpts: {}, mounts: [], mountMap: {}, environ: {}, preopenPorts: [] },
});
const enc = new TextEncoder();
const dec = new TextDecoder();

function parseHead(text: string) {
  const lines = text.split("\r\n");
  const [method, target] = lines[0].split(" ");
  const headers = new Headers();
  let len = 0;
  for (let i = 1; i < lines.length; i++) {
    const l = lines[i]; const c = l.indexOf(":");
    const k = l.slice(0, c); const v = l.slice(c + 1).trim();
    headers.append(k, v);
    if (k.length === 14 && k.toLowerCase() === "content-length") len = Number(v);
  }
  return { method, target, headers, len };
}
async function serialize(res: Response): Promise<Uint8Array> {
  const body = new Uint8Array(await res.arrayBuffer());
  let head = `HTTP/1.1 ${res.status} OK\r\n`;
  res.headers.forEach((v, k) => head += `${k}: ${v}\r\n`);
  head += `content-length: ${body.byteLength}\r\n\r\n`;
  const h = enc.encode(head);
  const out = new Uint8Array(h.byteLength + body.byteLength);
  out.set(h); out.set(body, h.byteLength);
  return out;
}
async function handle(method: string, target: string, headers: Headers, body: Uint8Array | null) {
  const url = `http://${headers.get("host")}${target}`;
  const req = method === "GET" || method === "HEAD" ? new Request(url, { method, headers }) : new Request(url, { method, headers, body });
  if ((method === "GET" || method === "HEAD") && body && body.byteLength) preloadBody(req, body);
  return await serialize(await app.fetch(req));
}

// node:net variant
const nodeServer = net.createServer((sock) => {
  sock.setNoDelay(true);
  let buf: Buffer = Buffer.alloc(0);
  let busy = false;
  const pump = async () => {
    if (busy) return; busy = true;
    for (;;) {
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) break;
      const h = parseHead(buf.subarray(0, end).toString("latin1"));
      if (buf.length < end + 4 + h.len) break;
      const body = h.len ? buf.subarray(end + 4, end + 4 + h.len) : null;
      buf = buf.subarray(end + 4 + h.len);
      sock.write(await handle(h.method, h.target, h.headers, body));
    }
    busy = false;
  };
  sock.on("data", (d: Buffer) => { buf = buf.length ? Buffer.concat([buf, d]) : d; pump(); });
  sock.on("error", () => sock.destroy());
});
await new Promise<void>((r) => nodeServer.listen(0, "127.0.0.1", () => r()));
// Deno.listen variant
const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
(async () => {
  for await (const conn of listener) {
    conn.setNoDelay(true);
    (async () => {
      let buf = new Uint8Array(65536); let have = 0;
      try {
        for (;;) {
          let end = -1;
          for (let i = 3; i < have; i++) if (buf[i] === 10 && buf[i - 1] === 13 && buf[i - 2] === 10 && buf[i - 3] === 13) { end = i - 3; break; }
          if (end < 0) { const n = await conn.read(buf.subarray(have)); if (n === null) break; have += n; continue; }
          const h = parseHead(dec.decode(buf.subarray(0, end)));
          while (have < end + 4 + h.len) { const n = await conn.read(buf.subarray(have)); if (n === null) return; have += n; }
          const body = h.len ? buf.slice(end + 4, end + 4 + h.len) : null;
          const used = end + 4 + h.len; buf.copyWithin(0, used, have); have -= used;
          const out = await handle(h.method, h.target, h.headers, body);
          let off = 0; while (off < out.length) off += await conn.write(out.subarray(off));
        }
      } catch { /* closed */ } finally { try { conn.close(); } catch { /**/ } }
    })();
  }
})();
const gw = await serveGateway(app, { hostname: "127.0.0.1", port: 0 });
const plain = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, app.fetch);
console.log(JSON.stringify({ httpPort: gw.port, servePort: plain.addr.port, nodePort: (nodeServer.address() as net.AddressInfo).port, denoPort: (listener.addr as Deno.NetAddr).port, sessionId: created.sessionId }));
for await (const _ of Deno.stdin.readable) { /* drain */ }
Deno.exit(0);
