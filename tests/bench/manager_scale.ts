/**
 * The manager's memory at scale: a real manager process (embedded Postgres)
 * tracking BENCH_SESSIONS (10,000) RUNNING sessions over BENCH_AGENTS
 * (1,000) simulated agent nodes. Each simulated agent is its own actor
 * system and cluster node on its own WebSocket (in a few child processes),
 * joins and heartbeats as a real agent does (its kernels in every
 * heartbeat), and answers `kernel.create` with a kernel actor the session
 * watches, as a real one would; the sessions are created through the
 * public API. stdout: only `BENCH` lines.
 *   manager.sessions_10k_rss_mib   resident memory of the manager process
 *                                  with every session RUNNING
 *   manager.agents_1k_rss_mib      the same before the first session
 *
 * Run: deno run -A tests/bench/manager_scale.ts   (children run it with `sim`)
 */
import { Actor, type ActorRef } from "../../actors/runtime/types.ts";
import {
  everySecondSpread,
  joinSimAgents,
  type SimProcesses,
  startSimProcesses,
} from "./_sim_agents.ts";
import { startCluster } from "../support/cluster.ts";
import { pooled, rss, unlimitedKeypair } from "./_scale.ts";
import { SignedConnection } from "./_signed_http.ts";

const SELF = new URL(import.meta.url).pathname;
const SESSIONS = Number(Deno.env.get("BENCH_SESSIONS") ?? 10_000);
const AGENTS = Number(Deno.env.get("BENCH_AGENTS") ?? 1_000);
const PROCS = 4;
const log = (s: string) => console.error(`manager scale: ${s}`);

/** A kernel that exists (the session death-watches it) and does nothing. */
class SimKernel extends Actor<unknown> {
  receive(): unknown {
    return { accepted: true };
  }
}

interface SimMsg {
  type: string;
  kernelId?: string;
  sessionId?: string;
}

/** Stands in for `/user/node/agent`: holds fake kernels, answers the manager. */
class SimAgent extends Actor<SimMsg> {
  kernels = new Map<string, { sessionId: string; ref: ActorRef }>();
  receive(msg: SimMsg): unknown {
    switch (msg.type) {
      case "kernel.create": {
        const id = msg.kernelId!;
        if (!this.kernels.has(id)) {
          const ref = this.ctx.spawn(() => new SimKernel(), { name: id });
          this.kernels.set(id, { sessionId: msg.sessionId!, ref });
        }
        return { containerId: `sim-${id}` };
      }
      case "kernel.destroy": {
        const k = this.kernels.get(msg.kernelId!);
        if (k) {
          this.kernels.delete(msg.kernelId!);
          this.ctx.stop(k.ref);
        }
        return { stats: {} };
      }
      case "kernel.list":
        return this.reports();
      case "agent.forget-unknown":
        return { removed: [] };
      default:
        return undefined;
    }
  }
  reports() {
    return [...this.kernels].map(([kernelId, k]) => ({
      kernelId,
      sessionId: k.sessionId,
      containerId: `sim-${kernelId}`,
      status: "RUNNING",
    }));
  }
}

function info(id: string, agent?: SimAgent) {
  return {
    id,
    addr: "ws://127.0.0.1/x/cluster",
    region: "local",
    scalingGroup: "default",
    architecture: "x86_64",
    version: "0.1.0",
    resourceSlots: { cpu: 64, mem: 256 * 2 ** 30 },
    availableSlots: { cpu: 64, mem: 256 * 2 ** 30 },
    images: ["bai/python:3.11-bookworm"],
    computePlugins: {},
    draining: false,
    kernels: agent?.reports() ?? [],
  };
}

/** Child mode: `count` simulated agents from `first`; prints "up" once all joined. */
async function sim(url: string, secret: string, first: number, count: number) {
  const ticks = await joinSimAgents({
    url,
    secret,
    first,
    count,
    makeAgent: () => new SimAgent(),
    info,
    joinTimeoutMs: 120_000,
  });
  console.log("up");
  everySecondSpread(ticks);
  await new Promise(() => {});
}

async function main() {
  // No local agent: every session goes to a simulated one.
  const c = await startCluster({
    agents: 0,
    managerEnv: {
      RATE_LIMIT: "1000000000",
      ...JSON.parse(Deno.env.get("BENCH_MANAGER_ENV") ?? "{}"),
    },
    logs: Deno.env.get("BENCH_MANAGER_LOGS") === "1",
  });
  let sims: SimProcesses | undefined;
  try {
    sims = startSimProcesses({
      self: SELF,
      url: `ws://127.0.0.1:${c.port}/x/cluster`,
      secret: c.clusterSecret,
      agents: AGENTS,
      procs: PROCS,
    });
    log(`${AGENTS} simulated agents joining`);
    await sims.up;
    await new Promise((r) => setTimeout(r, 3000));
    const idle = await rss(c.managerPid());
    console.log(
      `BENCH manager.agents_1k_rss_mib ${(idle / 2 ** 20).toFixed(0)}`,
    );

    const kp = await unlimitedKeypair(c);
    const conns = await Promise.all(
      Array.from({ length: 16 }, () => SignedConnection.open(c.port, kp)),
    );
    const t0 = performance.now();
    let made = 0;
    await pooled(
      Array.from({ length: SESSIONS }, (_, i) => i),
      conns.length,
      async (i) => {
        const conn = conns[i % conns.length];
        const r = await conn.json<{ status: string }>("POST", "/session", {
          image: "python",
          name: `sess-${i}`,
        });
        if (r.body.status !== "RUNNING") {
          throw new Error(`s-${i}: ${r.status} ${JSON.stringify(r.body)}`);
        }
        if (++made % 1000 === 0) {
          log(
            `${made} sessions RUNNING (${
              ((performance.now() - t0) / 1000).toFixed(0)
            } s, manager ${
              ((await rss(c.managerPid())) / 2 ** 20).toFixed(0)
            } MiB)`,
          );
        }
      },
    );
    conns.forEach((x) => x.close());
    await new Promise((r) => setTimeout(r, 5000));
    const full = await rss(c.managerPid());
    log(
      `${SESSIONS} sessions in ${
        ((performance.now() - t0) / 1000).toFixed(0)
      } s; manager ${(idle / 2 ** 20).toFixed(0)} → ${
        (full / 2 ** 20).toFixed(0)
      } MiB`,
    );
    console.log(
      `BENCH manager.sessions_10k_rss_mib ${(full / 2 ** 20).toFixed(0)}`,
    );
  } finally {
    await sims?.stop();
    await c.stop();
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
