/**
 * The workloads of exec_profile.ts and a client for the bare HTTP layer.
 *
 * @module
 */
import type { TestCluster } from "../support/cluster.ts";
import { streamRun } from "./_stream_run.ts";
import type { Keypair, SignedConnection } from "./_signed_http.ts";

/** A named request, run `n` times one after another. */
export interface Workload {
  name: string;
  n: number;
  once: () => Promise<void>;
}

/** An unsigned keep-alive `GET /` (the HTTP layer alone). */
export class AnonConnection {
  #buf = new Uint8Array(1 << 16);
  #req: Uint8Array;
  private constructor(readonly conn: Deno.TcpConn, port: number) {
    this.#req = new TextEncoder().encode(
      `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`,
    );
  }
  static async open(port: number): Promise<AnonConnection> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.setNoDelay(true);
    return new AnonConnection(conn, port);
  }
  /** One request; its reply read whole (small, one segment here). */
  async get(): Promise<number> {
    await this.conn.write(this.#req);
    let have = 0;
    for (;;) {
      const n = await this.conn.read(this.#buf.subarray(have));
      if (n === null) throw new Error("connection closed");
      have += n;
      const text = new TextDecoder().decode(this.#buf.subarray(0, have));
      const end = text.indexOf("\r\n\r\n");
      const m = /content-length: *(\d+)/i.exec(text);
      if (end >= 0 && m && have >= end + 4 + Number(m[1])) {
        return Number(text.slice(9, 12));
      }
    }
  }
  close(): void {
    this.conn.close();
  }
}

/**
 * The workloads on `session` (a running Python session of `creds`), `n`
 * requests each (streams a third of it).
 */
export function workloads(
  c: TestCluster,
  creds: Keypair,
  conn: SignedConnection,
  anon: AnonConnection,
  session: string,
  n: number,
): Workload[] {
  const expect = (ok: boolean, what: unknown) => {
    if (!ok) throw new Error(`unexpected reply ${JSON.stringify(what)}`);
  };
  return [
    {
      name: "get_anon",
      n,
      once: async () => expect(await anon.get() === 200, "GET /"),
    },
    {
      name: "get_signed",
      n,
      once: async () => {
        const r = await conn.json("GET", "/");
        expect(r.status === 200, r);
      },
    },
    {
      name: "get_session",
      n,
      once: async () => {
        const r = await conn.json<{ status?: string }>(
          "GET",
          `/session/${session}`,
        );
        expect(r.status === 200, r);
      },
    },
    {
      name: "query",
      n,
      once: async () => {
        const { body } = await conn.json<
          { result: { status: string; console: [string, string][] } }
        >("POST", `/session/${session}`, {
          mode: "query",
          code: "print(1)",
          runId: null,
        });
        expect(
          body.result?.status === "finished" &&
            body.result.console[0]?.[1] === "1\n",
          body,
        );
      },
    },
    {
      name: "stream",
      n: Math.ceil(n / 3),
      once: async () => {
        const { out } = await streamRun(c.endpoint, creds, session);
        expect(out === "1\n", out);
      },
    },
  ];
}
