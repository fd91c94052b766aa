/**
 * Where the exec path's time goes (issue 17): a real cluster (manager +
 * one agent process, real Docker), one Python session, and for each
 * workload the CPU every process on the path spends per request, next to
 * the wall clock; then V8 CPU profiles of the manager and the agent while
 * queries run. stdout: only `BENCH` lines; the tables go to stderr, the
 * raw `.cpuprofile` files to var/profile/ (open them in Chrome DevTools).
 *
 * Workloads, one after another on one connection (as tests/bench/exec.ts):
 *   get_anon    unsigned `GET /` — HTTP in and out, no auth
 *   get_signed  signed `GET /` — the same plus signature check, rate limit
 *   get_session signed `GET /session/{name}` — plus resolve and info asks
 *   query       signed `POST /session/{name}` `print(1)` → finished
 *   stream      one WebSocket run: open a signed
 *               `/stream/session/{name}/execute`, send `print(1)`, its
 *               `finished` frame, close
 *
 * Processes: this one (the load generator), the manager, the agent, the
 * kernel's container (its cgroup), Postgres (the manager's embedded one),
 * dockerd + containerd + the container's shim (the attach stream goes
 * through them), and what the rest of the machine did meanwhile. CPU is
 * read from Linux (_proc_cpu.ts: per-thread schedstat, ns), so it is
 * exact per process; wall figures on a shared 2-core machine are not.
 *
 * BENCH lines (figures of the last round; every round is on stderr):
 *   exec_profile.<workload>.wall_p50_ms
 *   exec_profile.<workload>.cpu_us.<process>   µs of CPU per request
 *   exec_profile.<workload>.cpu_sum_us         their sum (the machine's other load excluded)
 *
 * Env: BENCH_PROFILE_N (500 requests a workload, streams a third of it),
 * BENCH_PROFILE_ROUNDS (2), BENCH_PROFILE_INSPECT=0 (no inspector, no
 * profiles), BENCH_PROFILE_SAMPLE_US (50).
 *
 * Run: deno task bench exec_profile   (or deno run -A tests/bench/exec_profile.ts)
 */
import { startCluster, type TestCluster } from "../support/cluster.ts";
import { freePort } from "../support/ports.ts";
import { SignedConnection } from "./_signed_http.ts";
import { unlimitedKeypair } from "./_scale.ts";
import {
  containerPids,
  containerSource,
  type CpuSource,
  descendants,
  machineBusyNs,
  measureCpu,
  pidsNamed,
  processSource,
  processTable,
} from "./_proc_cpu.ts";
import { Inspector, summarise } from "./_cpuprofile.ts";
import { AnonConnection, type Workload, workloads } from "./_exec_workloads.ts";
import {
  activityTable,
  type Figures,
  histogramTotals,
  hopTable,
  rowsText,
  table,
} from "./_profile_report.ts";
import {
  perfAvailable,
  type TraceGroup,
  traceSyscalls,
} from "./_perf_trace.ts";

const N = Number(Deno.env.get("BENCH_PROFILE_N") ?? 500);
const ROUNDS = Number(Deno.env.get("BENCH_PROFILE_ROUNDS") ?? 2);
const INSPECT = Deno.env.get("BENCH_PROFILE_INSPECT") !== "0";
const PERF = Deno.env.get("BENCH_PROFILE_PERF") !== "0";
const SAMPLE_US = Number(Deno.env.get("BENCH_PROFILE_SAMPLE_US") ?? 50);
const SESSION = "bench-profile";
const WARMUP = Number(Deno.env.get("BENCH_PROFILE_WARMUP") ?? 2000);
const IDLE_MS = 3000;
const OUT_DIR = new URL("../../var/profile/", import.meta.url).pathname;
const log = (s: string) => console.error(s);

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))];
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function sh(cmd: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped" }).output();
  return new TextDecoder().decode(out.stdout).trim();
}

/** The CPU sources on the path of this cluster's session. */
async function sourcesOf(c: TestCluster): Promise<CpuSource[]> {
  const agent = c.agents[0];
  const cid = await sh(
    "docker",
    "ps",
    "-q",
    "--no-trunc",
    "--filter",
    `label=ai.backend.agent-id=${agent.id}`,
  );
  if (!cid || cid.includes("\n")) {
    throw new Error(`expected one container of ${agent.id}, got "${cid}"`);
  }
  const initPid = Number(
    await sh("docker", "inspect", "-f", "{{.State.Pid}}", cid),
  );
  const shim = processTable().get(initPid)?.ppid;
  const container = containerSource("container", cid);
  if (!container) throw new Error(`no cgroup CPU counter for ${cid}`);
  const pg = () => {
    const table = processTable();
    return descendants(c.managerPid()).filter((p) =>
      table.get(p)?.comm === "postgres"
    );
  };
  const pgNow = pg();
  if (!pgNow.length) {
    log("exec_profile: no postgres under the manager (external?)");
  }
  const daemons = pidsNamed("dockerd", "containerd");
  log(
    `exec_profile: manager ${c.managerPid()}, agent ${agent.proc.pid}, ` +
      `container ${cid.slice(0, 12)} (init ${initPid}, shim ${shim}), ` +
      `postgres ${pgNow.length} processes, dockerd+containerd ${daemons}`,
  );
  traceGroups = [
    { name: "loadgen", pids: [Deno.pid] },
    { name: "manager", pids: [c.managerPid()] },
    { name: "agent", pids: [agent.proc.pid] },
    { name: "container", pids: containerPids(cid) },
    { name: "postgres", pids: pgNow },
    { name: "dockerd", pids: pidsNamed("dockerd") },
    { name: "containerd", pids: pidsNamed("containerd") },
    { name: "shim", pids: shim ? [shim] : [] },
  ];
  return [
    processSource("loadgen", () => [Deno.pid]),
    processSource("manager", () => [c.managerPid()]),
    processSource("agent", () => [agent.proc.pid]),
    container,
    processSource("postgres", pg),
    processSource("dockerd", () => daemons),
    processSource("shim", () => (shim ? [shim] : [])),
  ];
}

/** The processes to trace syscalls of (perf), set by sourcesOf. */
let traceGroups: TraceGroup[] = [];

/** Syscalls per request of `w`, by process (perf trace), on stderr. */
async function syscalls(w: Workload): Promise<void> {
  const counts = await traceSyscalls(traceGroups, async () => {
    for (let i = 0; i < w.n; i++) await w.once();
  });
  const lines: string[] = [];
  for (const [group, calls] of counts) {
    const total = [...calls.values()].reduce((a, b) => a + b, 0) / w.n;
    const top = [...calls].sort((a, b) => b[1] - a[1]).filter(([, c]) =>
      c / w.n >= 0.1
    ).slice(0, 8).map(([name, c]) => `${name} ${(c / w.n).toFixed(1)}`);
    lines.push(
      `  ${group.padStart(10)} ${total.toFixed(1).padStart(6)}  ${
        top.join(", ")
      }`,
    );
  }
  log(
    `\nexec_profile: syscalls per ${w.name} (perf trace -s, ${w.n} requests, ` +
      `idle background subtracted):\n${lines.join("\n")}`,
  );
}

/**
 * The runs' own clocks: the manager's `bai_exec_roundtrip_seconds` (exec
 * sent to the agent → its done back) and the agent's `bai_agent_run_seconds`
 * (exec written to the runner → its done read), read before and after a
 * workload: the mean time inside each hop.
 */
async function runClocks(
  c: TestCluster,
): Promise<
  {
    manager: { sum: number; count: number };
    agent: { sum: number; count: number };
  }
> {
  const m = await (await fetch(`${c.endpoint}/metrics`, {
    headers: { authorization: `Bearer ${METRICS_TOKEN}` },
  })).text();
  const a = await (await fetch(`http://127.0.0.1:${agentMetricsPort}/metrics`))
    .text();
  return {
    manager: histogramTotals(m, "bai_exec_roundtrip_seconds", 'mode="query"'),
    agent: histogramTotals(a, "bai_agent_run_seconds", 'mode="query"'),
  };
}

const METRICS_TOKEN = crypto.randomUUID();
const agentMetricsPort = freePort();

const MACHINE: CpuSource = {
  name: "machine",
  read: () => new Map([["busy", machineBusyNs()]]),
};

function logFigures(f: Figures, names: string[]): void {
  log(
    `exec_profile: ${f.workload} round ${f.round}: p50 ${
      f.wallP50Ms.toFixed(3)
    } ms; µs/req ${
      names.map((k) => `${k} ${f.us.get(k)!.toFixed(0)}`).join(", ")
    } (ticks: manager ${f.ticksUs.get("manager")!.toFixed(0)}, agent ${
      f.ticksUs.get("agent")!.toFixed(0)
    })`,
  );
}

async function measure(
  c: TestCluster,
  sources: CpuSource[],
  w: Workload,
  round: number,
  warmup = 20,
): Promise<Figures> {
  for (let i = 0; i < warmup; i++) await w.once();
  const runs = w.name === "query" || w.name === "stream";
  const clocks0 = runs ? await runClocks(c) : undefined;
  const xs: number[] = [];
  const r = await measureCpu([...sources, MACHINE], async () => {
    for (let i = 0; i < w.n; i++) {
      const t = performance.now();
      await w.once();
      xs.push(performance.now() - t);
    }
  });
  const per = (m: Map<string, number>) =>
    new Map([...m].map(([k, v]) => [k, v / w.n / 1000]));
  const us = per(r.ns);
  const machineUs = us.get("machine")!;
  us.delete("machine");
  const clocks1 = runs ? await runClocks(c) : undefined;
  const mean = (k: "manager" | "agent") =>
    clocks0 && clocks1
      ? 1000 * (clocks1[k].sum - clocks0[k].sum) /
        Math.max(1, clocks1[k].count - clocks0[k].count)
      : undefined;
  return {
    workload: w.name,
    round,
    n: w.n,
    wallP50Ms: pct(xs, 0.5),
    wallMeanMs: r.wallMs / w.n,
    us,
    ticksUs: per(r.ticksNs),
    machineUs,
    activity: r.activity,
    managerRunMs: mean("manager"),
    agentRunMs: mean("agent"),
  };
}

/** Profiles `targets` while `w` runs `w.n` times; saves and summarises the profiles. */
async function profile(
  targets: { name: string; port: number }[],
  w: Workload,
  sources: CpuSource[],
): Promise<void> {
  await Deno.mkdir(OUT_DIR, { recursive: true });
  const inspectors = await Promise.all(
    targets.map((t) => Inspector.connect(t.port)),
  );
  for (let i = 0; i < 20; i++) await w.once();
  await Promise.all(inspectors.map((s) => s.start(SAMPLE_US)));
  const r = await measureCpu(sources, async () => {
    for (let i = 0; i < w.n; i++) await w.once();
  });
  const profiles = await Promise.all(inspectors.map((s) => s.stop()));
  inspectors.forEach((s) => s.close());
  const stamp = new Date().toISOString().replaceAll(":", "-").slice(0, 19);
  targets.forEach((t, i) => {
    const file = `${OUT_DIR}${t.name}-${w.name}-${stamp}.cpuprofile`;
    Deno.writeTextFileSync(file, JSON.stringify(profiles[i]));
    const s = summarise(profiles[i]);
    const busyUs = s.totalUs - s.idleUs;
    const cpuUs = (r.ns.get(t.name) ?? 0) / 1000;
    log(
      `\n=== ${t.name}: ${w.n} ${w.name} under the profiler (${SAMPLE_US} µs ` +
        `sampling), wall ${(r.wallMs / w.n).toFixed(3)} ms/req, process CPU ${
          (cpuUs / w.n).toFixed(0)
        } µs/req, busy samples ${(busyUs / w.n).toFixed(0)} µs/req over ${
          (s.totalUs / 1000).toFixed(0)
        } ms profiled → ${file}`,
    );
    log(rowsText("self time by function:", s.byFunction, busyUs, w.n));
    log(rowsText("self time by module:", s.byModule, busyUs, w.n));
    log(rowsText("inclusive time, our functions:", s.inclusive, busyUs, w.n));
  });
}

const managerPort = freePort();
const agentPort = freePort();
const c = await startCluster({
  agents: 1,
  managerEnv: { METRICS_TOKEN },
  agentArgs: () => ["--metrics-port", String(agentMetricsPort)],
  managerFlags: INSPECT ? [`--inspect=127.0.0.1:${managerPort}`] : [],
  agentFlags: () => INSPECT ? [`--inspect=127.0.0.1:${agentPort}`] : [],
});
try {
  const creds = await unlimitedKeypair(c);
  const created = await c.json<{ status: string }>("POST", "/session", {
    image: "python",
    name: SESSION,
  }, creds);
  if (created.status !== "RUNNING") {
    throw new Error(`session is ${created.status}`);
  }
  const sources = await sourcesOf(c);
  const names = sources.map((s) => s.name);
  const conn = await SignedConnection.open(c.port, creds);
  const anon = await AnonConnection.open(c.port);
  const ws = workloads(c, creds, conn, anon, SESSION, N);
  const all: Figures[] = [];
  // First, as tests/bench/exec.ts measures: 200 queries after 20 warm-ups
  // of a fresh manager. Its code is still being optimised then (the p50 of
  // successive hundreds falls from ~1.3 to ~0.85 ms over ~700 queries).
  const query = ws.find((w) => w.name === "query")!;
  const cold = await measure(c, sources, { ...query, n: 200 }, 0, 20);
  all.push({ ...cold, workload: "query_cold" });
  logFigures(cold, names);
  // Then every workload WARMUP times before the rounds are measured.
  for (const w of ws) {
    for (let i = 0; i < WARMUP; i++) await w.once();
  }
  const idle = await measureCpu(sources, () => sleep(IDLE_MS));
  log(
    `exec_profile: background CPU with no requests (${IDLE_MS} ms): ${
      names.map((k) =>
        `${k} ${((idle.ns.get(k) ?? 0) / IDLE_MS).toFixed(0)} µs/s`
      ).join(", ")
    }`,
  );
  for (let round = 1; round <= ROUNDS; round++) {
    for (const w of ws) {
      const f = await measure(c, sources, w, round);
      all.push(f);
      logFigures(f, names);
    }
  }
  log(
    `\nexec_profile: µs of CPU per request by process; mean-sum = mean wall − ` +
      `the sum (waits: wake-ups, scheduling; negative when processes ran in ` +
      `parallel); others = the rest of the machine meanwhile\n` +
      table(all, names),
  );
  log(
    `\nexec_profile: where a run's wall time is, by the processes' own ` +
      `clocks (means, ms): client = the client's round trip; manager = ` +
      `its exec sent → done back (bai_exec_roundtrip_seconds); agent = exec ` +
      `written to the runner → done read (bai_agent_run_seconds)\n` +
      hopTable(all),
  );
  log(
    `\nexec_profile: per request, pooled over the rounds: runs = times a ` +
      `thread got a CPU (wake-ups), sys = system share of the CPU (10 ms ticks)\n` +
      activityTable(all, names),
  );
  for (const name of new Set(all.map((f) => f.workload))) {
    const last = all.filter((f) => f.workload === name).at(-1)!;
    console.log(
      `BENCH exec_profile.${name}.wall_p50_ms ${last.wallP50Ms.toFixed(3)}`,
    );
    for (const k of names) {
      console.log(
        `BENCH exec_profile.${name}.cpu_us.${k} ${last.us.get(k)!.toFixed(1)}`,
      );
    }
    const sum = names.reduce((s, k) => s + last.us.get(k)!, 0);
    console.log(`BENCH exec_profile.${name}.cpu_sum_us ${sum.toFixed(1)}`);
  }
  if (PERF && await perfAvailable()) {
    for (const w of ws.filter((w) => w.name !== "get_session")) {
      await syscalls(w);
    }
  } else if (PERF) {
    log("exec_profile: no `perf trace` here: syscalls not counted");
  }
  if (INSPECT) {
    const targets = [
      { name: "manager", port: managerPort },
      { name: "agent", port: agentPort },
    ];
    const stream = ws.find((w) => w.name === "stream")!;
    await profile(targets, query, sources);
    await profile(targets, stream, sources);
  }
  conn.close();
  anon.close();
} finally {
  await c.stop();
}
