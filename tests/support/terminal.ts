/**
 * Signed WebSockets against a test cluster, and a terminal client that
 * speaks Backend.AI's pty frames (`stdin` / `resize` in, base64 `out`
 * frames out), as a browser terminal or the Python SDK does.
 *
 * @example
 * ```ts ignore
 * const t = await Terminal.open(c, "/stream/session/demo/pty");
 * t.type("echo $((6*7))\r");
 * await t.waitFor(/\r\n42\r\n/);
 * ```
 *
 * @module
 */
import { type Credentials, signedSocketTo } from "../../routes/cli/sign.ts";
import { fromBase64, toBase64 } from "../../actors/protocol/base64.ts";

/** Where the cluster serves and who signs. */
export interface Endpoint {
  port: number;
  admin: Credentials;
}

/**
 * A WebSocket to `target` (path and query), signed the way Backend.AI
 * clients sign an upgrade (a GET without Content-Type), not yet open: add
 * listeners before awaiting {@link whenOpen}, so nothing sent right after
 * the upgrade is missed.
 */
export function signedSocket(
  c: Endpoint,
  target: string,
  creds: Credentials = c.admin,
): WebSocket {
  return signedSocketTo(`http://127.0.0.1:${c.port}`, creds, target);
}

/** Resolves once `ws` is open; rejects with `failure: <why>` when the upgrade is refused. */
export function whenOpen(ws: WebSocket, failure: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = (e) =>
      reject(new Error(`${failure}: ${(e as ErrorEvent).message}`));
  });
}

/** A signed WebSocket to `target` (path and query); resolves once open, rejects when refused. */
export async function signedWebSocket(
  c: Endpoint,
  target: string,
  creds: Credentials = c.admin,
): Promise<WebSocket> {
  const ws = signedSocket(c, target, creds);
  ws.binaryType = "arraybuffer";
  await whenOpen(ws, "socket refused");
  return ws;
}

/** A terminal over `/stream/session/{ref}/pty`. */
export class Terminal {
  /** Everything printed so far, decoded. */
  text = "";
  /** Frames other than `out`. */
  readonly other: Record<string, unknown>[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  #dec = new TextDecoder();
  #wake: (() => void)[] = [];

  constructor(readonly ws: WebSocket) {
    ws.addEventListener("message", (e) => {
      const f = JSON.parse(String(e.data));
      if (f.type === "out") {
        this.text += this.#dec.decode(fromBase64(f.data), { stream: true });
      } else this.other.push(f);
      for (const w of this.#wake.splice(0)) w();
    });
    this.closed = new Promise((r) =>
      ws.addEventListener("close", (e) => {
        r({ code: e.code, reason: e.reason });
        for (const w of this.#wake.splice(0)) w();
      })
    );
  }

  static async open(
    c: Endpoint,
    target: string,
    creds?: Credentials,
  ): Promise<Terminal> {
    return new Terminal(await signedWebSocket(c, target, creds));
  }

  /** Types `keys` (base64 `stdin` frame). */
  type(keys: string): void {
    this.ws.send(JSON.stringify({
      type: "stdin",
      chars: toBase64(new TextEncoder().encode(keys)),
    }));
  }

  resize(rows: number, cols: number): void {
    this.ws.send(JSON.stringify({ type: "resize", rows, cols }));
  }

  /** Waits until the output (after `from`, default the start) matches `re`; returns the match. */
  async waitFor(
    re: RegExp,
    ms = 20_000,
    from = 0,
  ): Promise<RegExpMatchArray> {
    const end = Date.now() + ms;
    for (;;) {
      const m = this.text.slice(from).match(re);
      if (m) return m;
      const left = end - Date.now();
      if (left <= 0 || this.ws.readyState === WebSocket.CLOSED) {
        throw new Error(
          `terminal: no ${re} within ${ms} ms; screen ends ${
            JSON.stringify(this.text.slice(-400))
          }`,
        );
      }
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 200));
        this.#wake.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /**
   * Runs `cmd` and answers what it printed between two markers (the
   * echo of the typed line does not match: its markers are split).
   */
  async run(cmd: string, ms = 20_000): Promise<string> {
    const id = Math.random().toString(36).slice(2, 8);
    const from = this.text.length;
    this.type(`echo "<${id}""-"; ${cmd}; echo "-""${id}>"\r`);
    const m = await this.waitFor(
      new RegExp(`<${id}-\\r\\n([\\s\\S]*?)-${id}>`),
      ms,
      from,
    );
    return m[1].replaceAll("\r\n", "\n");
  }

  close(): void {
    this.ws.close();
  }
}
