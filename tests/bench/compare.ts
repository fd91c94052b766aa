/**
 * `deno task bench:compare`: our path against what a user would pick
 * instead, on this machine, in one run, measured in turns (so both sides
 * see the same neighbours). stdout: only `BENCH` lines.
 *
 * 1. A fresh sandbox per request, glot's and Piston's model: a hardened
 *    `docker run --rm` (no network, no capabilities, no new privileges,
 *    read-only root, pids, memory and cpu limits, uid 1000) of the python
 *    image printing 1, against our `POST /session` for `mem: "512m"` (not
 *    the pool's standard size) → its first `print(1)` result.
 *      compare.docker_run_p50_ms, compare.session_start_512m_p50_ms,
 *      compare.docker_run_over_session_start   (goal ≥ 10)
 * 2. A local Jupyter kernel (Debian's python3-ipykernel, driven over ZMQ by
 *    jupyter_client in its own process: execute `print(1)`, wait for the
 *    reply and the kernel's idle), no gateway, no container, against our
 *    warm query and one WebSocket run (as tests/bench/exec.ts, after 1000
 *    queries and 50 runs: a running manager).
 *      compare.jupyter_execute_p50_ms, compare.query_p50_ms,
 *      compare.stream_p50_ms, compare.jupyter_over_query,
 *      compare.jupyter_over_stream             (goals ≥ 3)
 *
 * Needs Docker, the python image and `apt-get install python3-ipykernel
 * python3-jupyter-client` (the Jupyter part is skipped, saying so, without).
 *
 * Run: deno task bench:compare   (BENCH_SAMPLES: turns per side, 15 / 200)
 */
import { startCluster } from "../support/cluster.ts";
import { streamRun } from "./_stream_run.ts";
import { SignedConnection } from "./_signed_http.ts";
import { quantile, unlimitedKeypair } from "./_scale.ts";

const STARTS = Number(Deno.env.get("BENCH_SAMPLES") ?? 15);
const RUNS = Number(Deno.env.get("BENCH_RUNS") ?? 200);
const IMAGE = "bai/python:3.11-bookworm";
const log = (s: string) => console.error(`compare: ${s}`);
const p50 = (xs: number[]) => quantile(xs, 0.5);

/** A hardened one-shot container, as glot and Piston run each request. */
async function dockerRun(): Promise<number> {
  const t = performance.now();
  const out = await new Deno.Command("docker", {
    args: [
      "run",
      "--rm",
      "--network",
      "none",
      "--cap-drop",
      "ALL",
      "--security-opt",
      "no-new-privileges",
      "--pids-limit",
      "256",
      "--read-only",
      "--tmpfs",
      "/tmp:rw,nosuid,nodev,size=64m",
      "--memory",
      "512m",
      "--memory-swap",
      "512m",
      "--cpus",
      "1",
      "--user",
      "1000:1000",
      "--entrypoint",
      "python3",
      IMAGE,
      "-c",
      "print(1)",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const ms = performance.now() - t;
  const text = new TextDecoder().decode(out.stdout);
  if (text !== "1\n") {
    throw new Error(
      `docker run: ${text} ${new TextDecoder().decode(out.stderr)}`,
    );
  }
  return ms;
}

/** The Jupyter side: a python3 process running a kernel and a client. */
const JUPYTER = `
import sys, time, json
from jupyter_client.manager import start_new_kernel
km, kc = start_new_kernel(kernel_name="python3")
def once():
    t = time.perf_counter()
    msg_id = kc.execute("print(1)")
    out = ""
    while True:
        m = kc.get_iopub_msg(timeout=10)
        if m["parent_header"].get("msg_id") != msg_id:
            continue
        if m["msg_type"] == "stream":
            out += m["content"]["text"]
        if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
            break
    kc.get_shell_msg(timeout=10)  # the execute_reply
    assert out == "1\\n", out
    return (time.perf_counter() - t) * 1000
for _ in range(20):
    once()
print("ready", flush=True)
for line in sys.stdin:
    n = int(line)
    print(json.dumps([once() for _ in range(n)]), flush=True)
kc.stop_channels()
km.shutdown_kernel(now=True)
import os
os._exit(0)  # jupyter_client's finalizers complain at interpreter exit
`;

async function jupyter() {
  const probe = await new Deno.Command("/usr/bin/python3", {
    args: ["-c", "import jupyter_client, ipykernel"],
    stdout: "null",
    stderr: "null",
  }).output().catch(() => ({ success: false }));
  if (!probe.success) return undefined;
  const child = new Deno.Command("/usr/bin/python3", {
    args: ["-c", JUPYTER],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  const line = async () => {
    while (!buf.includes("\n")) {
      const { value, done } = await lines.read();
      if (done) throw new Error("the Jupyter side exited");
      buf += value;
    }
    const i = buf.indexOf("\n");
    const l = buf.slice(0, i);
    buf = buf.slice(i + 1);
    return l;
  };
  const writer = child.stdin.getWriter();
  if ((await line()) !== "ready") throw new Error("Jupyter kernel not ready");
  return {
    async runs(n: number): Promise<number[]> {
      await writer.write(new TextEncoder().encode(`${n}\n`));
      return JSON.parse(await line());
    },
    async close() {
      await writer.close();
      await child.status;
    },
  };
}

const c = await startCluster({ agents: 1, poolSize: 1 });
try {
  const kp = await unlimitedKeypair(c);
  const conn = await SignedConnection.open(c.port, kp);
  const ourStart = async (name: string): Promise<number> => {
    const t = performance.now();
    const created = await conn.json<{ status: string }>("POST", "/session", {
      image: "python",
      name,
      config: { resources: { mem: "512m" } },
    });
    if (created.body.status !== "RUNNING") {
      throw new Error(`${name}: ${JSON.stringify(created.body)}`);
    }
    const q = await conn.json<{ result: { console: [string, string][] } }>(
      "POST",
      `/session/${name}`,
      { mode: "query", code: "print(1)", runId: null },
    );
    const ms = performance.now() - t;
    if (q.body.result.console[0]?.[1] !== "1\n") {
      throw new Error(`${name}: ${JSON.stringify(q.body)}`);
    }
    await conn.json("DELETE", `/session/${name}`);
    // The container goes back to the pool reset (or the pool refills).
    await new Promise((r) => setTimeout(r, 1500));
    return ms;
  };

  log(`${STARTS} turns: docker run --rm, then our create → first result`);
  await dockerRun();
  await ourStart("cmp-warmup");
  const docker: number[] = [];
  const starts: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    docker.push(await dockerRun());
    starts.push(await ourStart(`cmp-${i}`));
  }
  const d = p50(docker);
  const s = p50(starts);
  console.log(`BENCH compare.docker_run_p50_ms ${d.toFixed(1)}`);
  console.log(`BENCH compare.session_start_512m_p50_ms ${s.toFixed(1)}`);
  console.log(
    `BENCH compare.docker_run_over_session_start ${(d / s).toFixed(1)}`,
  );

  const j = await jupyter();
  if (!j) {
    log(
      "Jupyter part skipped: apt-get install -y python3-ipykernel python3-jupyter-client",
    );
  } else {
    await c.json("POST", "/session", { image: "python", name: "cmp-warm" }, kp);
    const query = async () => {
      const t = performance.now();
      const r = await conn.json<{ result: { console: [string, string][] } }>(
        "POST",
        "/session/cmp-warm",
        { mode: "query", code: "print(1)", runId: null },
      );
      if (r.body.result.console[0]?.[1] !== "1\n") {
        throw new Error(JSON.stringify(r.body));
      }
      return performance.now() - t;
    };
    const stream = async () => {
      const t = performance.now();
      const { out, finishedAt } = await streamRun(c.endpoint, kp, "cmp-warm");
      const ms = finishedAt - t;
      if (out !== "1\n") throw new Error(`stream: ${out}`);
      return ms;
    };
    // A running manager (V8 optimises after some thousands of calls), as
    // the Jupyter kernel is warm (CPython does not optimise further).
    for (let i = 0; i < 1000; i++) await query();
    for (let i = 0; i < 1000; i++) await stream();
    const jx: number[] = [];
    const qx: number[] = [];
    const sx: number[] = [];
    // Turns of the same length for every side: the first request after
    // another side's turn finds cold caches and sleeping cores (~2–3× a
    // warm one here), and a side with shorter turns pays that more often.
    const turn = 25;
    for (let done = 0; done < RUNS; done += turn) {
      jx.push(...await j.runs(turn));
      for (let i = 0; i < turn; i++) qx.push(await query());
      for (let i = 0; i < turn; i++) sx.push(await stream());
    }
    await j.close();
    const jp = p50(jx);
    console.log(`BENCH compare.jupyter_execute_p50_ms ${jp.toFixed(2)}`);
    console.log(`BENCH compare.query_p50_ms ${p50(qx).toFixed(2)}`);
    console.log(`BENCH compare.stream_p50_ms ${p50(sx).toFixed(2)}`);
    console.log(
      `BENCH compare.jupyter_over_query ${(jp / p50(qx)).toFixed(2)}`,
    );
    console.log(
      `BENCH compare.jupyter_over_stream ${(jp / p50(sx)).toFixed(2)}`,
    );
  }
  conn.close();
} finally {
  await c.stop();
}
