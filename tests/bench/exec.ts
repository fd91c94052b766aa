/**
 * Query round trip through the manager's public API on a real cluster
 * (manager + one agent process, real Docker). stdout: only `BENCH` lines.
 *   exec.query_rtt_p50_ms       signed `POST /session/{name}` query `print(1)` in
 *                               a running Python session → its `finished` reply
 *   exec.query_rtt_p90_ms       the same, 90th percentile
 *   exec.query_rtt_p50_ms.otel  the same with tracing on in both processes
 *   exec.query_rtt_p90_ms.otel  (OTEL_DENO=true, OTLP http/protobuf to a sink
 *                               that only answers), so the cost is known
 *   exec.stream_rtt_p50_ms      one WebSocket run: open a signed
 *                               `/stream/session/{name}/execute`, send
 *                               `print(1)`, its `finished` frame
 *
 * The queries go over one keep-alive connection of a lean client
 * (_signed_http.ts: each request signed afresh, one write, no `fetch`), in
 * this process, apart from the cluster's.
 *
 * One session per cluster; 20 warm-up runs (connections, the
 * interpreter's first import), then BENCH_SAMPLES (200) runs one after
 * another: the `.cold` figures, a manager that has served a few hundred
 * queries. Then BENCH_WARMUP (1000) more and BENCH_SAMPLES again: the
 * headline figures, a running manager (V8 optimises a hot function only
 * after some thousands of calls; docs/exec_profile.md). Streams likewise:
 * 5 and STREAMS (100) for `.cold`, 50 more, then STREAMS. With tracing compared, four clusters run in the order plain,
 * traced, traced, plain and each figure pools its two runs: whichever
 * cluster starts later runs faster here (caches), which would otherwise
 * read as a cost or a gain of tracing. `BENCH_OTEL=0` runs plain only.
 *
 * Run: deno run -A tests/bench/exec.ts
 */
import { type ClusterOptions, startCluster } from "../support/cluster.ts";
import { startOtlpSink } from "../support/otlp.ts";
import { SignedConnection } from "./_signed_http.ts";
import { unlimitedKeypair } from "./_scale.ts";
import { streamRun } from "./_stream_run.ts";

const SAMPLES = Number(Deno.env.get("BENCH_SAMPLES") ?? 200);
const WARMUP = 20;
const WARM = Number(Deno.env.get("BENCH_WARMUP") ?? 1000);
const STREAMS = Number(Deno.env.get("BENCH_STREAMS") ?? 100);

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))];
}

/** Round trips of SAMPLES queries on a fresh cluster started with `options`. */
async function measure(label: string, options: ClusterOptions) {
  const c = await startCluster({ agents: 1, ...options });
  try {
    // Over a thousand requests: a keypair no rate limit stops.
    const kp = await unlimitedKeypair(c);
    const created = await c.json<{ status: string }>("POST", "/session", {
      image: "python",
      name: "bench-exec",
    }, kp);
    if (created.status !== "RUNNING") {
      throw new Error(`session is ${created.status}`);
    }
    const conn = await SignedConnection.open(c.port, kp);
    const once = async (): Promise<number> => {
      const t = performance.now();
      const { body: res } = await conn.json<
        { result: { status: string; console: [string, string][] } }
      >("POST", "/session/bench-exec", {
        mode: "query",
        code: "print(1)",
        runId: null,
      });
      const ms = performance.now() - t;
      if (
        res.result.status !== "finished" ||
        res.result.console[0]?.[1] !== "1\n"
      ) {
        throw new Error(`unexpected result ${JSON.stringify(res)}`);
      }
      return ms;
    };
    for (let i = 0; i < WARMUP; i++) await once();
    const cold: number[] = [];
    for (let i = 0; i < SAMPLES; i++) cold.push(await once());
    for (let i = 0; i < WARM; i++) await once();
    const xs: number[] = [];
    for (let i = 0; i < SAMPLES; i++) xs.push(await once());
    conn.close();
    const streamOnce = async (): Promise<number> => {
      const t = performance.now();
      const { out, finishedAt } = await streamRun(c.endpoint, kp, "bench-exec");
      const ms = finishedAt - t;
      if (out !== "1\n") throw new Error(`unexpected stream ${out}`);
      return ms;
    };
    for (let i = 0; i < 5; i++) await streamOnce();
    const coldStreams: number[] = [];
    for (let i = 0; i < STREAMS; i++) coldStreams.push(await streamOnce());
    for (let i = 0; i < 50; i++) await streamOnce();
    const ss: number[] = [];
    for (let i = 0; i < STREAMS; i++) ss.push(await streamOnce());
    add(`query${label}`, xs);
    add(`query${label}.cold`, cold);
    add(`stream${label}`, ss);
    add(`stream${label}.cold`, coldStreams);
    console.error(
      `exec${label}: ${SAMPLES} queries, p50 ${
        pct(xs, 0.5).toFixed(1)
      } ms, min ${Math.min(...xs).toFixed(1)} ms, max ${
        Math.max(...xs).toFixed(1)
      } ms`,
    );
  } finally {
    await c.stop();
  }
}

/** Round trips per figure (`query`, `stream`, each `.cold` too, per label), pooled over clusters. */
const samples = new Map<string, number[]>();

function add(figure: string, xs: number[]): void {
  samples.set(figure, [...(samples.get(figure) ?? []), ...xs]);
}

function report(label: string): void {
  const p = (figure: string, q: number) =>
    pct(samples.get(figure) ?? [], q).toFixed(2);
  console.log(`BENCH exec.query_rtt_p50_ms${label} ${p(`query${label}`, 0.5)}`);
  console.log(`BENCH exec.query_rtt_p90_ms${label} ${p(`query${label}`, 0.9)}`);
  console.log(
    `BENCH exec.stream_rtt_p50_ms${label} ${p(`stream${label}`, 0.5)}`,
  );
  console.log(
    `BENCH exec.query_rtt_p50_ms${label}.cold ${p(`query${label}.cold`, 0.5)}`,
  );
  console.log(
    `BENCH exec.stream_rtt_p50_ms${label}.cold ${
      p(`stream${label}.cold`, 0.5)
    }`,
  );
}

if (Deno.env.get("BENCH_OTEL") === "0") {
  await measure("", {});
  report("");
} else {
  const sink = await startOtlpSink();
  const traced = {
    managerEnv: sink.env("bai-manager"),
    agentEnv: sink.env("bai-agent"),
  };
  try {
    await measure("", {});
    await measure(".otel", traced);
    await measure(".otel", traced);
    await measure("", {});
    report("");
    report(".otel");
    console.error(`exec.otel: ${sink.bytes()} bytes of OTLP exported`);
  } finally {
    await sink.close();
  }
}
