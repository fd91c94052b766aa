/**
 * A lean signed HTTP/1.1 client for latency benchmarks: one keep-alive TCP
 * connection, each request signed afresh (Backend.AI HMAC-SHA256 over the
 * request's own date, routes/auth.ts), written in one write, its reply read
 * by Content-Length. `fetch` costs several times the CPU of this (~0.4 ms
 * a request here), and on two cores the client's CPU is the server's
 * latency: the figure should measure the server.
 *
 * @module
 */
import { computeSignature, SigningKeyCache } from "../../routes/auth.ts";

const VERSION = "v6.20220315";
const EMPTY_SHA256 =
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const keys = new SigningKeyCache();
const enc = new TextEncoder();
const dec = new TextDecoder();

/** A keypair to sign with. */
export interface Keypair {
  accessKey: string;
  secretKey: string;
}

/** One keep-alive connection to `port` on 127.0.0.1. */
export class SignedConnection {
  #conn: Deno.TcpConn;
  #buf = new Uint8Array(1 << 20);
  #have = 0;
  #used = performance.now();
  readonly host: string;

  private constructor(
    conn: Deno.TcpConn,
    readonly port: number,
    readonly creds: Keypair,
  ) {
    this.#conn = conn;
    this.host = `127.0.0.1:${port}`;
  }

  static async open(port: number, creds: Keypair): Promise<SignedConnection> {
    return new SignedConnection(await connect(port), port, creds);
  }

  /** A signed request with a JSON body (or none); its status and JSON reply. */
  async json<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> {
    const date = new Date().toISOString();
    const payload = body === undefined ? "" : JSON.stringify(body);
    const type = body === undefined
      ? "application/octet-stream"
      : "application/json";
    const sig = computeSignature(
      keys,
      "sha256",
      this.creds.secretKey,
      date.slice(0, 10).replaceAll("-", ""),
      {
        method,
        target: path,
        date,
        host: this.host,
        contentType: type,
        versionHeaderName: "x-backendai-version",
        version: VERSION,
        bodyHash: EMPTY_SHA256,
      },
    );
    const bytes = enc.encode(payload);
    // The gateway closes a keep-alive connection idle for 20 s: start over.
    if (performance.now() - this.#used > 10_000) {
      this.#conn.close();
      this.#conn = await connect(this.port);
      this.#have = 0;
    }
    this.#used = performance.now();
    await this.#conn.write(enc.encode(
      `${method} ${path} HTTP/1.1\r\nHost: ${this.host}\r\n` +
        `X-BackendAI-Date: ${date}\r\nX-BackendAI-Version: ${VERSION}\r\n` +
        `Authorization: BackendAI signMethod=HMAC-SHA256, credential=${this.creds.accessKey}:${sig}\r\n` +
        (body === undefined ? "" : `Content-Type: ${type}\r\n`) +
        `Content-Length: ${bytes.byteLength}\r\n\r\n${payload}`,
    ));
    for (;;) {
      const text = dec.decode(
        this.#buf.subarray(0, Math.min(this.#have, 8192)),
      );
      const end = text.indexOf("\r\n\r\n");
      if (end >= 0) {
        const status = Number(text.slice(9, 12));
        const m = /content-length: *(\d+)/i.exec(text.slice(0, end));
        if (!m) {
          throw new Error(`reply without content-length: ${text.slice(0, 80)}`);
        }
        const total = end + 4 + Number(m[1]);
        if (this.#have >= total) {
          const json = JSON.parse(
            dec.decode(this.#buf.subarray(end + 4, total)) || "null",
          );
          this.#buf.copyWithin(0, total, this.#have);
          this.#have -= total;
          return { status, body: json as T };
        }
      }
      const n = await this.#conn.read(this.#buf.subarray(this.#have));
      if (n === null) throw new Error("connection closed");
      this.#have += n;
    }
  }

  close(): void {
    this.#conn.close();
  }
}

async function connect(port: number): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  conn.setNoDelay(true);
  return conn;
}
