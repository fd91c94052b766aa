/**
 * A real cluster for integration tests: a manager process (embedded
 * Postgres in a temp dir, random ports) and agent processes dialing it,
 * each a separate `deno run main.ts ...`, exactly as operators run them.
 *
 * @example
 * ```ts ignore
 * const c = await startCluster({ agents: 1 });
 * const res = await c.api("POST", "/session", { image: "python", name: "demo" });
 * await c.stop();
 * ```
 *
 * @module
 */

import { type Credentials, signedFetch } from "../../routes/cli/sign.ts";
import { unmountUnder } from "../../actors/storage/volume/mounts.ts";
import { freePort } from "./ports.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const DENO = Deno.execPath();
/**
 * Extra `deno run` flags of every node process, e.g. `--cpu-prof
 * --cpu-prof-dir=/tmp/prof` to profile a benchmark's manager and agents.
 */
const NODE_FLAGS = (Deno.env.get("BAI_NODE_DENO_FLAGS") ?? "").split(" ")
  .filter(Boolean);

export interface ClusterOptions {
  /** Agent nodes to start. @default {1} */
  agents?: number;
  /** Extra args per agent (e.g. `["--cpu", "1"]`). */
  agentArgs?: (index: number) => string[];
  /**
   * Extra `deno run` flags of the manager process (before `-A`), e.g.
   * `["--inspect=127.0.0.1:9229"]` to profile it (tests/bench/exec_profile.ts).
   */
  managerFlags?: string[];
  /** Extra `deno run` flags per agent process (before `-A`), as managerFlags. */
  agentFlags?: (index: number) => string[];
  /** Warm containers per agent. @default {0} (cold starts; tests that want the pool say so) */
  poolSize?: number;
  /** Extra environment of the manager. */
  managerEnv?: Record<string, string>;
  /** Extra environment of each agent (e.g. OpenTelemetry's `OTEL_*`). */
  agentEnv?: Record<string, string>;
  /**
   * An existing (empty) data dir to use, e.g. a small tmpfs; the caller
   * owns it (stop() empties it but leaves it). @default {a new temp dir}
   */
  dataDir?: string;
  /** Show the nodes' logs on stderr. @default {false} unless TEST_LOGS=1 */
  logs?: boolean;
}

export interface AgentProc {
  id: string;
  proc: Deno.ChildProcess;
  args: string[];
}

export interface TestCluster {
  endpoint: string;
  port: number;
  dataDir: string;
  admin: Credentials;
  /** The cluster secret agents join with. */
  clusterSecret: string;
  agents: AgentProc[];
  /** A signed request with the admin keypair (or `creds`); JSON body. */
  api(
    method: string,
    path: string,
    body?: unknown,
    creds?: Credentials,
  ): Promise<Response>;
  /** Like api() but parses JSON and throws on a non-2xx status. */
  json<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    creds?: Credentials,
  ): Promise<T>;
  /** A new non-admin keypair. */
  newKeypair(
    opts?: { resourcePolicy?: string; rateLimit?: number },
  ): Promise<Credentials>;
  startAgent(id?: string, extraArgs?: string[]): Promise<AgentProc>;
  /** Waits until the manager lists the agent as ALIVE. */
  waitAgent(id: string, timeoutMs?: number): Promise<void>;
  killAgent(id: string, signal?: Deno.Signal): Promise<void>;
  /** Pid of the manager process now running (it changes on restart). */
  managerPid(): number;
  /** kill -9 the manager and start it again on the same data dir and port. */
  restartManager(signal?: Deno.Signal): Promise<void>;
  stop(): Promise<void>;
}

async function waitFor(
  check: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

const randomKey = (n: number, alphabet: string) =>
  Array.from(
    crypto.getRandomValues(new Uint8Array(n)),
    (b) => alphabet[b % alphabet.length],
  ).join("");

export async function startCluster(
  options: ClusterOptions = {},
): Promise<TestCluster> {
  const logs = options.logs ?? Deno.env.get("TEST_LOGS") === "1";
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ??
    await Deno.makeTempDir({ prefix: "bai-test-" });
  await Deno.chmod(dataDir, 0o755);
  const port = freePort();
  const pgPort = freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const secret = randomKey(32, "abcdef0123456789");
  const admin = {
    accessKey: "AKIA" + randomKey(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"),
    secretKey: randomKey(
      40,
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
    ),
  };
  const io = logs ? "inherit" : "null";
  let manager: Deno.ChildProcess;

  const startManager = async () => {
    manager = new Deno.Command(DENO, {
      args: [
        "run",
        ...NODE_FLAGS,
        ...(options.managerFlags ?? []),
        "-A",
        MAIN,
        "manager",
        "--port",
        String(port),
        "--hostname",
        "127.0.0.1",
      ],
      env: {
        DATA_DIR: dataDir,
        PG_PORT: String(pgPort),
        CLUSTER_SECRET: secret,
        ADMIN_ACCESS_KEY: admin.accessKey,
        ADMIN_SECRET_KEY: admin.secretKey,
        ...options.managerEnv,
      },
      stdin: "null",
      stdout: io,
      stderr: io,
    }).spawn();
    await waitFor(
      async () =>
        (await fetch(endpoint + "/").then((r) =>
          r.body?.cancel().then(() => r.ok)
        )) ?? false,
      60_000,
      "manager",
    );
  };
  await startManager();

  const agents: AgentProc[] = [];
  // Unique per cluster: agents adopt (and remove) containers by their agent-id label.
  const agentPrefix = `t${
    randomKey(6, "abcdefghijklmnopqrstuvwxyz0123456789")
  }`;
  const c: TestCluster = {
    endpoint,
    port,
    dataDir,
    admin,
    clusterSecret: secret,
    agents,
    api: (method, path, body, creds = admin) =>
      signedFetch(endpoint, creds, method, path, body),
    async json(method, path, body, creds) {
      const res = await c.api(method, path, body, creds);
      const text = await res.text();
      if (!res.ok) {
        throw new Error(`${method} ${path} → ${res.status}: ${text}`);
      }
      return (text ? JSON.parse(text) : {});
    },
    async newKeypair(opts = {}) {
      return await c.json("POST", "/x/admin/keypairs", {
        resourcePolicy: opts.resourcePolicy ?? "default",
        rateLimit: opts.rateLimit,
        isAdmin: false,
      });
    },
    async startAgent(
      id = `${agentPrefix}-agent-${agents.length + 1}`,
      extra = [],
    ) {
      const args = [
        "run",
        ...NODE_FLAGS,
        ...(options.agentFlags?.(agents.length) ?? []),
        "-A",
        MAIN,
        "agent",
        "--manager",
        `ws://127.0.0.1:${port}`,
        "--id",
        id,
        "--data-dir",
        `${dataDir}/${id}`,
        "--pool",
        String(options.poolSize ?? 0),
        ...(options.agentArgs?.(agents.length) ?? []),
        ...extra,
      ];
      const proc = new Deno.Command(DENO, {
        args,
        env: { CLUSTER_SECRET: secret, ...options.agentEnv },
        stdin: "null",
        stdout: io,
        stderr: io,
      }).spawn();
      const a = { id, proc, args };
      const i = agents.findIndex((x) => x.id === id);
      if (i >= 0) agents[i] = a;
      else agents.push(a);
      await c.waitAgent(id);
      return a;
    },
    async waitAgent(id, timeoutMs = 60_000) {
      await waitFor(
        async () => {
          const list = await c.json<
            { agents?: { id: string; status: string }[] } | {
              id: string;
              status: string;
            }[]
          >(
            "GET",
            "/x/admin/agents",
          );
          const items = Array.isArray(list) ? list : list.agents ?? [];
          return items.some((a) => a.id === id && a.status === "ALIVE");
        },
        timeoutMs,
        `agent ${id}`,
      );
    },
    async killAgent(id, signal = "SIGKILL") {
      const a = agents.find((x) => x.id === id);
      if (!a) throw new Error(`no agent ${id}`);
      try {
        a.proc.kill(signal);
      } catch { /* gone */ }
      await a.proc.status;
    },
    managerPid: () => manager.pid,
    async restartManager(signal = "SIGKILL") {
      try {
        manager.kill(signal);
      } catch { /* gone */ }
      await manager.status;
      await startManager();
    },
    async stop() {
      for (const a of agents) {
        try {
          a.proc.kill("SIGKILL");
        } catch { /* gone */ }
        await a.proc.status;
      }
      try {
        manager.kill("SIGTERM");
      } catch { /* gone */ }
      await manager.status;
      await removeContainersOf(agents.map((a) => a.id));
      // Agents' scratch volumes (and storage hosts) are loop mounts in the data dir.
      await unmountUnder(dataDir);
      if (ownDir) {
        await Deno.remove(dataDir, { recursive: true }).catch(() => undefined);
      } else {
        for await (const e of Deno.readDir(dataDir)) {
          await Deno.remove(`${dataDir}/${e.name}`, { recursive: true })
            .catch(() => undefined);
        }
      }
    },
  };
  for (let i = 0; i < (options.agents ?? 1); i++) await c.startAgent();
  return c;
}

/** Test cleanup: removes every container an agent of this test created. */
export async function removeContainersOf(agentIds: string[]): Promise<void> {
  for (const id of agentIds) {
    const out = await new Deno.Command("docker", {
      args: ["ps", "-aq", "--filter", `label=ai.backend.agent-id=${id}`],
      stdout: "piped",
      stderr: "null",
    }).output();
    const ids = new TextDecoder().decode(out.stdout).split("\n").filter(
      Boolean,
    );
    if (ids.length) {
      await new Deno.Command("docker", {
        args: ["rm", "-f", ...ids],
        stdout: "null",
        stderr: "null",
      }).output();
    }
  }
}
