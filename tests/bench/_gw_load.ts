// temporary (issue 17): load against a given port, `deno run -A _gw_load.ts PORT TARGET AK SK`
import { createHmac } from "node:crypto";
const [port, target, ak, sk] = Deno.args;
const VERSION = "v6.20220315";
const EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const host = `127.0.0.1:${port}`;
const date = new Date().toISOString();
const h = (k: string | Uint8Array, m: string) => createHmac("sha256", k).update(m).digest();
const k2 = h(h(sk, date.slice(0, 10).replaceAll("-", "")), host);
const sig = createHmac("sha256", k2).update(`GET\n${target}\n${date}\nhost:${host}\ncontent-type:application/octet-stream\nx-backendai-version:${VERSION}\n${EMPTY}`).digest("hex");
const req = new TextEncoder().encode(`GET ${target} HTTP/1.1\r\nHost: ${host}\r\nX-BackendAI-Date: ${date}\r\nX-BackendAI-Version: ${VERSION}\r\nAuthorization: BackendAI signMethod=HMAC-SHA256, credential=${ak}:${sig}\r\n\r\n`);
const MS = Number(Deno.env.get("MS") ?? 5000);
let done = 0;
const t0 = performance.now();
await Promise.all(Array.from({ length: 16 }, async () => {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
  conn.setNoDelay(true);
  const buf = new Uint8Array(65536); const dec = new TextDecoder(); let have = 0;
  while (performance.now() - t0 < MS) {
    await conn.write(req);
    for (;;) {
      const text = dec.decode(buf.subarray(0, have));
      const end = text.indexOf("\r\n\r\n");
      if (end >= 0) {
        if (!text.startsWith("HTTP/1.1 200")) throw new Error(text.slice(0, 200));
        const m = /content-length: *(\d+)/i.exec(text.slice(0, end))!;
        const total = end + 4 + Number(m[1]);
        if (have >= total) { buf.copyWithin(0, total, have); have -= total; break; }
      }
      const n = await conn.read(buf.subarray(have)); if (n === null) throw new Error("closed"); have += n;
    }
    done++;
  }
  conn.close();
}));
console.log(`per_s ${Math.round(done / ((performance.now() - t0) / 1000))}`);
