/**
 * Backend.AI's request signature written from API.md alone (WebCrypto, not
 * the gateway's code), so tests check the gateway against the spec rather
 * than against itself: the string to sign, then `k1 = HMAC(secret,
 * YYYYMMDD)`, `k2 = HMAC(k1, host)`, `HMAC(k2, string)`, over the empty
 * body's hash.
 *
 * @module
 */

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
export async function signature(opts: {
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
