/**
 * Agent heartbeats at scale: a real manager process (embedded Postgres,
 * random ports) and 1,000 simulated agent nodes, each its own actor system
 * and cluster node identity on its own WebSocket, sending `agent.join` once
 * and `agent.heartbeat` (a realistic AgentInfo) every second to
 * `/user/manager/agents`, as real agents do. The simulators live in a few
 * child processes.
 *
 * - `manager.agents_1k_heartbeat_cpu_pct`: CPU of the manager process
 *   (user + system, from /proc/PID/stat) over 10 s once every agent has
 *   joined, in percent of one core. Goal: under 25.
 *
 * Usage: deno run -A tests/bench/heartbeats.ts
 *   (`BENCH_AGENTS`, `BENCH_SECONDS` change the size; children run this file with `sim`)
 */
import { Actor } from "../../actors/runtime/types.ts";
import {
  everySecondSpread,
  joinSimAgents,
  type SimProcesses,
  startSimProcesses,
} from "./_sim_agents.ts";

/** Stands in for the agent actor: the registry death-watches it, as on a real agent. */
class IdleAgent extends Actor<never> {
  receive(): undefined {
    return undefined;
  }
}

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const SELF = new URL(import.meta.url).pathname;
const AGENTS = Number(Deno.env.get("BENCH_AGENTS") ?? 1000);
const SECONDS = Number(Deno.env.get("BENCH_SECONDS") ?? 10);
const PROCS = 4;

const log = (s: string) => console.error(`heartbeats bench: ${s}`);

function info(id: string) {
  return {
    id,
    addr: "ws://127.0.0.1/x/cluster",
    region: "local",
    scalingGroup: "default",
    architecture: "x86_64",
    version: "0.1.0",
    resourceSlots: { cpu: 8, mem: 34359738368 },
    availableSlots: { cpu: 8, mem: 34359738368 },
    images: [
      "bai/python:3.11-bookworm",
      "bai/bash:5.2-bookworm",
      "bai/c:12-bookworm",
    ],
    computePlugins: {},
    draining: false,
    kernels: [],
  };
}

/** Child mode: `count` simulated agents starting at `first`; prints "up" once all joined. */
async function sim(url: string, secret: string, first: number, count: number) {
  let sent = 0;
  const ticks = await joinSimAgents({
    url,
    secret,
    first,
    count,
    makeAgent: () => new IdleAgent(),
    info,
    joinTimeoutMs: 60_000,
  });
  // Joined means the registry has stored it: the measurement starts after.
  console.log("up");
  if (Deno.env.get("BENCH_HB_OFF") === "1") await new Promise(() => {}); // cluster links only (diagnosis)
  everySecondSpread(ticks.map((tick) => () => {
    tick();
    sent++;
  }));
  // Heartbeats actually sent, so the parent can tell whether this machine
  // kept up the intended rate (a starved simulator sends fewer).
  setInterval(() => console.log(`sent ${sent}`), 250);
  await new Promise(() => {});
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** utime + stime of a process, in seconds. */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  // The command name may hold spaces; fields start after its closing paren.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ
}

async function main() {
  const dataDir = await Deno.makeTempDir({ prefix: "bai-bench-hb-" });
  await Deno.chmod(dataDir, 0o755); // Postgres runs as its own user
  const port = freePort();
  const secret = crypto.randomUUID().replaceAll("-", "");
  let sims: SimProcesses | undefined;
  const manager = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      // Diagnosis: e.g. BENCH_MANAGER_FLAGS=--v8-flags=--prof
      ...(Deno.env.get("BENCH_MANAGER_FLAGS")?.split(" ").filter(Boolean) ??
        []),
      MAIN,
      "manager",
      "--port",
      String(port),
      "--hostname",
      "127.0.0.1",
    ],
    env: {
      DATA_DIR: dataDir,
      PG_PORT: String(freePort()),
      CLUSTER_SECRET: secret,
      ADMIN_ACCESS_KEY: "AKIABENCHHEARTBEAT01",
      ADMIN_SECRET_KEY: "x".repeat(40),
    },
    stdin: "null",
    stdout: "null",
    // Diagnosis: BENCH_MANAGER_LOGS=1 shows the manager's log.
    stderr: Deno.env.get("BENCH_MANAGER_LOGS") === "1" ? "inherit" : "null",
  }).spawn();
  try {
    log("starting the manager");
    const deadline = Date.now() + 60_000;
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${port}/`).then(
        async (r) => (await r.body?.cancel(), r.ok),
        () => false,
      );
      if (ok) break;
      if (Date.now() > deadline) throw new Error("manager did not start");
      await new Promise((r) => setTimeout(r, 100));
    }
    log(`starting ${AGENTS} simulated agents in ${PROCS} processes`);
    const sentBy: number[] = [];
    sims = startSimProcesses({
      self: SELF,
      url: `ws://127.0.0.1:${port}/x/cluster`,
      secret,
      agents: AGENTS,
      procs: PROCS,
      onLine: (index, text) => {
        const m = [...text.matchAll(/sent (\d+)/g)].at(-1);
        if (m) sentBy[index] = Number(m[1]);
      },
    });
    await sims.up;
    log("all joined; settling 3 s");
    await new Promise((r) => setTimeout(r, 3000));
    const total = () => sentBy.reduce((a, b) => a + (b ?? 0), 0);
    const c0 = await cpuSeconds(manager.pid);
    const s0 = total();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const c1 = await cpuSeconds(manager.pid);
    const s1 = total();
    const wall = (performance.now() - t0) / 1000;
    const pct = ((c1 - c0) / wall) * 100;
    const rate = (s1 - s0) / wall;
    console.log(`BENCH manager.agents_1k_heartbeat_cpu_pct ${pct.toFixed(1)}`);
    // The load the figure above was measured under: AGENTS per second when
    // the simulators kept up (they share this machine's cores).
    console.log(
      `BENCH manager.agents_1k_heartbeat_rate_per_s ${rate.toFixed(0)}`,
    );
    if (rate < AGENTS * 0.95) {
      log(
        `the simulators sent ${rate.toFixed(0)} heartbeats/s, not ${AGENTS}: ` +
          `the machine is too busy for this figure to mean much`,
      );
    }
  } finally {
    await sims?.stop();
    try {
      manager.kill("SIGTERM");
    } catch { /* gone */ }
    await manager.status;
    await Deno.remove(dataDir, { recursive: true }).catch(() => undefined);
  }
}

if (Deno.args[0] === "sim") {
  await sim(
    Deno.args[1],
    Deno.args[2],
    Number(Deno.args[3]),
    Number(Deno.args[4]),
  );
} else {
  await main();
  Deno.exit(0);
}
