/**
 * Simulated agent nodes for the scale benchmarks (heartbeats.ts,
 * manager_scale.ts): each its own actor system and cluster node on its own
 * WebSocket to the manager, with an agent actor at `/user/node/agent`
 * (AGENT_PATHS.agent) as a real agent node has — the registry death-watches
 * it, and one missing there reads as a lost agent at once (every heartbeat
 * would then be a rejoin with a store write).
 *
 * @module
 */
import { ActorSystem } from "../../actors/runtime/mod.ts";
import { Actor } from "../../actors/runtime/types.ts";
import { Cluster } from "../../actors/cluster/mod.ts";

/** `/user/node`: spawns the agent actor `make` gives as its child `agent`. */
class SimNode<A extends Actor<never>> extends Actor<unknown> {
  agent?: A;
  constructor(readonly make: () => A) {
    super();
  }
  override preStart(): void {
    this.ctx.spawn(() => (this.agent = this.make()), { name: "agent" });
  }
  receive(): undefined {
    return undefined;
  }
}

/** Options of {@link joinSimAgents}. */
export interface SimAgentsOptions<A extends Actor<never>> {
  /** The manager's cluster endpoint (`ws://.../x/cluster`). */
  url: string;
  secret: string;
  /** Agents `sim-agent-{first}` .. `sim-agent-{first + count - 1}`. */
  first: number;
  count: number;
  /** The agent actor of each node. */
  makeAgent: () => A;
  /** The AgentInfo an agent joins and heartbeats with (`agent`: its actor, once started). */
  info(id: string, agent?: A): Record<string, unknown>;
  /** How long a join may take. */
  joinTimeoutMs: number;
}

/**
 * Starts the agents, joins each to the manager's registry and resolves,
 * once every join is answered (stored), with one heartbeat sender per agent.
 */
export async function joinSimAgents<A extends Actor<never>>(
  o: SimAgentsOptions<A>,
): Promise<(() => void)[]> {
  const ticks: (() => void)[] = [];
  const joins: Promise<unknown>[] = [];
  for (let i = o.first; i < o.first + o.count; i++) {
    const id = `sim-agent-${i}`;
    const system = new ActorSystem({ nodeId: id });
    const cluster = new Cluster(system, { secret: o.secret, log: () => {} });
    system.setTransport(cluster);
    let node!: SimNode<A>;
    system.spawn(() => (node = new SimNode(o.makeAgent)), { name: "node" });
    const manager = await cluster.dial(o.url);
    const registry = system.refFor({
      node: manager,
      path: "/user/manager/agents",
    });
    joins.push(
      registry.ask({ type: "agent.join", info: o.info(id) }, {
        timeoutMs: o.joinTimeoutMs,
      }),
    );
    ticks.push(() =>
      registry.tell({
        type: "agent.heartbeat",
        info: o.info(id, node.agent),
      })
    );
  }
  await Promise.all(joins);
  return ticks;
}

/** Runs each tick once a second, spread over the second as independent machines would be. */
export function everySecondSpread(ticks: (() => void)[]): void {
  ticks.forEach((tick, i) =>
    setTimeout(
      () => setInterval(tick, 1000),
      Math.floor((i / ticks.length) * 1000),
    )
  );
}

/** Simulator processes started by {@linkcode startSimProcesses}. */
export interface SimProcesses {
  /** Resolves once every process printed "up" (all its agents joined). */
  up: Promise<void>;
  /** Kills them all. */
  stop(): Promise<void>;
}

/**
 * The parent side: `agents` simulated agents in `procs` processes, each
 * `deno run -A SELF sim URL SECRET FIRST COUNT` (the bench's own child
 * mode, which calls {@linkcode joinSimAgents} and prints "up"). `onLine`
 * gets what a process prints after "up", with its index.
 */
export function startSimProcesses(
  o: {
    self: string;
    url: string;
    secret: string;
    agents: number;
    procs: number;
    onLine?: (index: number, text: string) => void;
  },
): SimProcesses {
  const per = Math.ceil(o.agents / o.procs);
  const children: Deno.ChildProcess[] = [];
  const ups: Promise<void>[] = [];
  for (let p = 0; p < o.procs; p++) {
    const count = Math.min(per, o.agents - p * per);
    if (count <= 0) break;
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        o.self,
        "sim",
        o.url,
        o.secret,
        String(p * per),
        String(count),
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    children.push(child);
    const reader = child.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    ups.push(
      reader.read().then(({ value }) => {
        if (!value?.includes("up")) throw new Error("simulator failed");
        void (async () => {
          for (;;) {
            const { value, done } = await reader.read();
            if (done) return;
            o.onLine?.(p, value);
          }
        })().catch(() => undefined);
      }),
    );
  }
  return {
    up: Promise.all(ups).then(() => undefined),
    async stop() {
      for (const child of children) {
        try {
          child.kill("SIGKILL");
        } catch { /* gone */ }
        await child.status;
      }
    },
  };
}
