/**
 * Agent drivers: how the autoscaler starts and stops agent nodes. The
 * autoscaler decides (policies/scale_in.ts); a driver only acts, so a new
 * platform needs a driver and nothing else.
 *
 * ## Writing a driver
 *
 * Implement {@link AgentDriver}:
 *
 * - `start({ group, id, args })` boots one agent node that dials this
 *   manager with the cluster secret and joins `group` under agent id `id`
 *   (`args`: the group's `agentArgs`, e.g. a capacity cap; the
 *   autoscaler picks stable ids, so a restarted node re-adopts its
 *   containers). It resolves once the node is launched, not once it has
 *   joined: the autoscaler counts it as "starting" until the registry
 *   lists it.
 * - `stop(id, { force })` ends a node. Without `force` the node drains
 *   (SIGTERM semantics: takes nothing new, exits when its kernels end); the
 *   autoscaler only asks this of empty or unprotected nodes. With `force`
 *   (an admin's stop, a failed health check) it ends now, kernels included.
 * - `owns(id)` says whether this driver started `id`: the autoscaler never
 *   acts on agents it does not own (they count as capacity, with node-level
 *   scale-in protection).
 * - `close()` runs at manager shutdown.
 *
 * A cloud driver (not shipped) maps `start` to "launch an instance from a
 * template whose user-data runs `deno task agent --manager URL --id ID`
 * with CLUSTER_SECRET", `stop` to "terminate instance" after a drain, and
 * `owns` to a tag on the instance (`bai-agent-id`); instance-type capacity
 * goes in the group's `agentCapacity`.
 *
 * @module
 */

/** What the autoscaler asks of a platform. */
export interface AgentDriver {
  /** Launches agent `id` in scaling group `group`, with extra agent `args`. */
  start(req: { group: string; id: string; args: string[] }): Promise<void>;
  /** Ends agent `id`: drains it, or with `force` ends it at once. */
  stop(id: string, options: { force: boolean }): Promise<void>;
  /** Whether this driver started (and may stop) agent `id`. */
  owns(id: string): boolean;
  /** Ids started and still running (joined or not). */
  running(): string[];
  /** Manager shutdown. */
  close(): Promise<void>;
}

/** Options of {@link LocalProcessDriver}. */
export interface LocalProcessDriverOptions {
  /** The manager's cluster endpoint, known once it serves (`ws://HOST:PORT`). */
  managerUrl: () => string;
  /** Shared cluster secret, passed as CLUSTER_SECRET. */
  clusterSecret: string;
  /** Each agent gets `${dataDir}/${id}`. */
  dataDir: string;
  /** Entry script. @default {main.ts of this repository} */
  main?: string;
  /** Where agents' output goes. @default {"inherit"} */
  stdio?: "inherit" | "null";
}

/** Asked to stop an agent this driver does not run (the admin API answers 400). */
export class NotManagedError extends Error {
  override name = "NotManagedError";
  /**
   * A refusal, not a failure (actors/runtime: an error with a
   * `problemType` rejects the ask and leaves the actor running): an admin's
   * `stop` of an agent the autoscaler did not start used to fail the
   * autoscaler actor, and ten such requests in a minute escalated to a
   * restart of the whole manager tree, every session actor included.
   */
  readonly problemType = "generic-bad-request";
  get problemMsg(): string {
    return this.message;
  }
}

/**
 * The shipped driver: agents are child processes of the manager
 * (`deno run -A main.ts agent --manager ... --id ...`), for one big machine
 * or a demo. Their lifetime is tied to the manager's: at shutdown they are
 * told to exit at once (SIGINT), leaving containers for the agent of the
 * same id to re-adopt when the next manager starts it again.
 */
export class LocalProcessDriver implements AgentDriver {
  #procs = new Map<string, Deno.ChildProcess>();

  constructor(readonly options: LocalProcessDriverOptions) {}

  start(req: { group: string; id: string; args: string[] }): Promise<void> {
    if (this.#procs.has(req.id)) return Promise.resolve();
    const o = this.options;
    const main = o.main ??
      new URL("../../main.ts", import.meta.url).pathname;
    const proc = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        main,
        "agent",
        "--manager",
        o.managerUrl(),
        "--id",
        req.id,
        "--data-dir",
        `${o.dataDir}/${req.id}`,
        "--scaling-group",
        req.group,
        ...req.args,
      ],
      env: { CLUSTER_SECRET: o.clusterSecret },
      stdin: "null",
      stdout: o.stdio ?? "inherit",
      stderr: o.stdio ?? "inherit",
    }).spawn();
    this.#procs.set(req.id, proc);
    proc.status.then(() => {
      if (this.#procs.get(req.id) === proc) this.#procs.delete(req.id);
    });
    return Promise.resolve();
  }

  async stop(id: string, { force }: { force: boolean }): Promise<void> {
    const proc = this.#procs.get(id);
    if (!proc) throw new NotManagedError(`agent ${id} is not running here`);
    try {
      proc.kill(force ? "SIGKILL" : "SIGTERM");
    } catch { /* already gone */ }
    if (force) {
      await proc.status;
      await removeContainersOf(id);
    }
  }

  owns(id: string): boolean {
    return this.#procs.has(id);
  }

  running(): string[] {
    return [...this.#procs.keys()];
  }

  async close(): Promise<void> {
    const procs = [...this.#procs.values()];
    this.#procs.clear();
    for (const p of procs) {
      try {
        p.kill("SIGINT");
      } catch { /* gone */ }
    }
    await Promise.all(procs.map((p) => p.status));
  }
}

/** A forced stop leaves no containers behind: the kernels die with the node. */
async function removeContainersOf(agentId: string): Promise<void> {
  const out = await new Deno.Command("docker", {
    args: ["ps", "-aq", "--filter", `label=ai.backend.agent-id=${agentId}`],
    stdout: "piped",
    stderr: "null",
  }).output().catch(() => undefined);
  const ids = out ? new TextDecoder().decode(out.stdout).split("\n") : [];
  const live = ids.filter(Boolean);
  if (live.length === 0) return;
  await new Deno.Command("docker", {
    args: ["rm", "-f", ...live],
    stdout: "null",
    stderr: "null",
  }).output().catch(() => undefined);
}
