/**
 * Benchmark: authenticated `GET /session/{id}` through real HTTP against the
 * gateway with the stand-in deps (no actors), several keep-alive
 * connections for ~5 s per listener. The server runs in a process of its own
 * so the load generator does not share its runtime. Every request
 * is verified in full (date, keypair look-up, signature, rate-limit hit);
 * the client reuses one signature, valid for the whole run, so after its
 * first verification the gateway finds it among the signatures it verified
 * lately (routes/auth.ts VerifiedSignatures) instead of computing the HMAC
 * again (a client signing each request afresh costs ~6 µs more a request).
 *
 * Prints `BENCH gateway.signed_get_per_s <n>` for the production listener
 * (routes/serve.ts), `BENCH gateway.signed_get_per_s.deno_serve <n>` for
 * the app under plain `Deno.serve`, `.manager` against a real manager (and
 * `gateway.signed_get_cpu_us.manager`, the manager's CPU per request), and
 * `.otel` / `.manager.otel` for the same with tracing on (OTEL_DENO=true,
 * exporting to a sink that only answers; `BENCH_OTEL=0` skips them).
 *
 * @module
 */
import { createHmac } from "node:crypto";
import { startCluster } from "../support/cluster.ts";
import { firstLine } from "./_child.ts";
import { startOtlpSink } from "../support/otlp.ts";

const DURATION_MS = Number(Deno.env.get("BENCH_GATEWAY_MS") ?? 5000);
const CONNECTIONS = Number(Deno.env.get("BENCH_GATEWAY_CONNECTIONS") ?? 16);
const WARMUP_MS = Number(Deno.env.get("BENCH_GATEWAY_WARMUP_MS") ?? 2000);
const USER = {
  accessKey: "AKIAIOSFODNN7EXAMPLE",
  secretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
};
const VERSION = "v6.20220315";
const EMPTY_SHA256 =
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/** The raw bytes of one signed `GET target` for `host`. */
function signedRequest(
  host: string,
  target: string,
  creds: { accessKey: string; secretKey: string } = USER,
): Uint8Array {
  const date = new Date().toISOString();
  const hmac = (key: string | Uint8Array, msg: string) =>
    createHmac("sha256", key).update(msg).digest();
  const k2 = hmac(
    hmac(creds.secretKey, date.slice(0, 10).replaceAll("-", "")),
    host,
  );
  const str =
    `GET\n${target}\n${date}\nhost:${host}\ncontent-type:application/octet-stream\nx-backendai-version:${VERSION}\n${EMPTY_SHA256}`;
  const sig = createHmac("sha256", k2).update(str).digest("hex");
  return new TextEncoder().encode(
    `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nX-BackendAI-Date: ${date}\r\n` +
      `X-BackendAI-Version: ${VERSION}\r\n` +
      `Authorization: BackendAI signMethod=HMAC-SHA256, credential=${creds.accessKey}:${sig}\r\n\r\n`,
  );
}

/**
 * One keep-alive connection speaking plain HTTP/1.1: `fetch` costs more CPU
 * than the gateway itself, and on 2 cores the load generator must stay cheap
 * so the figure measures the server.
 */
async function connection(port: number, request: Uint8Array) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  conn.setNoDelay(true);
  const buf = new Uint8Array(64 * 1024);
  const dec = new TextDecoder();
  let have = 0;
  return {
    async once(): Promise<void> {
      await conn.write(request);
      for (;;) {
        const text = dec.decode(buf.subarray(0, have));
        const end = text.indexOf("\r\n\r\n");
        if (end >= 0) {
          if (!text.startsWith("HTTP/1.1 200")) {
            throw new Error(`unexpected reply ${text.slice(0, 40)}`);
          }
          const m = /content-length: *(\d+)/i.exec(text.slice(0, end));
          if (!m) throw new Error("reply without content-length");
          const total = end + 4 + Number(m[1]);
          if (have >= total) {
            buf.copyWithin(0, total, have);
            have -= total;
            return;
          }
        }
        const n = await conn.read(buf.subarray(have));
        if (n === null) throw new Error("connection closed");
        have += n;
      }
    },
    close: () => conn.close(),
  };
}

/** utime + stime of a process, in ms (0 for none). */
async function cpuMs(pid?: number): Promise<number> {
  if (!pid) return 0;
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) * 10; // USER_HZ
}

/** Server CPU (µs) per request of the last {@link measure} that named a server pid. */
let lastCpuUs = 0;

/**
 * Requests per second against `port` over CONNECTIONS connections, after
 * WARMUP_MS of the same load (the JIT settles: a server runs warm). With
 * `serverPid`, the server's CPU per request is kept in `lastCpuUs`.
 */
async function measure(
  label: string,
  port: number,
  target: string,
  creds = USER,
  serverPid?: number,
): Promise<number> {
  const request = signedRequest(`127.0.0.1:${port}`, target, creds);
  const conns = await Promise.all(
    Array.from({ length: CONNECTIONS }, () => connection(port, request)),
  );
  const load = async (ms: number) => {
    let done = 0;
    const deadline = performance.now() + ms;
    await Promise.all(conns.map(async (c) => {
      while (performance.now() < deadline) {
        await c.once();
        done++;
      }
    }));
    return done;
  };
  await load(WARMUP_MS);
  console.error(
    `bench gateway: ${label}, ${CONNECTIONS} connections for ${DURATION_MS} ms ...`,
  );
  const cpu0 = await cpuMs(serverPid);
  const t0 = performance.now();
  const done = await load(DURATION_MS);
  const perS = Math.round(done / ((performance.now() - t0) / 1000));
  lastCpuUs = ((await cpuMs(serverPid)) - cpu0) * 1000 / Math.max(1, done);
  conns.forEach((c) => c.close());
  return perS;
}

// The server is a process of its own: a worker thread in this process
// measured ~25 % lower, sharing the runtime with the load generator.
async function standIn(env: Record<string, string> = {}) {
  const server = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./_gateway_server.ts", import.meta.url).pathname,
    ],
    env,
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const { port, plainPort, sessionId } = JSON.parse(
    await firstLine(server),
  ) as { port: number; plainPort: number; sessionId: string };
  return {
    port,
    plainPort,
    target: `/session/${sessionId}`,
    async stop() {
      await server.stdin.close();
      await server.status;
    },
  };
}

const plain = await standIn();
console.log(
  `BENCH gateway.signed_get_per_s ${await measure(
    "serveGateway",
    plain.port,
    plain.target,
  )}`,
);
console.log(
  `BENCH gateway.signed_get_per_s.deno_serve ${await measure(
    "Deno.serve",
    plain.plainPort,
    plain.target,
  )}`,
);
await plain.stop();

// The same with tracing on (a server span per request, exported over OTLP
// http/protobuf to a sink that only answers): the cost of telemetry.
const otel = Deno.env.get("BENCH_OTEL") !== "0";
const sink = otel ? await startOtlpSink() : undefined;
if (sink) {
  const traced = await standIn(sink.env("bai-gateway"));
  console.log(
    `BENCH gateway.signed_get_per_s.otel ${await measure(
      "serveGateway, tracing on",
      traced.port,
      traced.target,
    )}`,
  );
  await traced.stop();
}

// The same request against a real manager (actors, embedded Postgres): the
// keypair and session actors answer, the session resolved from the index.
for (const traced of otel ? [false, true] : [false]) {
  const c = await startCluster({
    agents: 1,
    managerEnv: {
      RATE_LIMIT: "1000000000",
      ...(traced ? sink!.env("bai-manager") : {}),
    },
  });
  try {
    const s = await c.json<{ sessionId: string }>("POST", "/session", {
      image: "python",
      name: "bench-get",
    });
    console.log(
      `BENCH gateway.signed_get_per_s.manager${
        traced ? ".otel" : ""
      } ${await measure(
        traced ? "manager, tracing on" : "manager",
        c.port,
        `/session/${s.sessionId}`,
        c.admin,
        c.managerPid(),
      )}`,
    );
    // The manager's own CPU per request: what the rate would be with the
    // machine to itself (the load generator and neighbours share the cores).
    console.log(
      `BENCH gateway.signed_get_cpu_us.manager${traced ? ".otel" : ""} ${
        lastCpuUs.toFixed(1)
      }`,
    );
  } finally {
    await c.stop();
  }
}
if (sink) {
  console.error(`bench gateway: ${sink.bytes()} bytes of OTLP exported`);
  await sink.close();
}
