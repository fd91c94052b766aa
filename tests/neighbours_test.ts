/**
 * Two `deno task start` clusters on one host (issue 18 "Restarts and
 * neighbours", issue 19's last must-show), each with nothing but its own
 * `DATA_DIR`: they come up side by side (own HTTP port when 8081 is taken,
 * own embedded Postgres port, own local agent id), run kernels without
 * touching each other's, and one killed with -9 is started again at once
 * (its dead manager's Postgres is taken over; its agent left with it) and
 * re-adopts its kernel, state included. Then the second cluster's agent,
 * forced onto the first one's agent id, still leaves the first one's
 * container alone (it cannot prove it is its own).
 */
import { assert, assertEquals } from "./support/assert.ts";
import { signedFetch } from "../routes/cli/sign.ts";
import { eventually } from "./support/eventually.ts";
import { removeContainersOf } from "./support/cluster.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

interface Start {
  proc: Deno.ChildProcess;
  dataDir: string;
  endpoint: string;
  log: string[];
}

/** `deno run main.ts start` (what `deno task start` runs) with only DATA_DIR set. */
async function start(
  dataDir: string,
  env: Record<string, string> = {},
): Promise<Start> {
  const proc = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "start"],
    env: { DATA_DIR: dataDir, ...env },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const log: string[] = [];
  let ready: (url: string) => void = () => {};
  const readyP = new Promise<string>((r) => (ready = r));
  (async () => {
    const lines = proc.stderr.pipeThrough(new TextDecoderStream());
    let partial = "";
    for await (const chunk of lines) {
      const parts = (partial + chunk).split("\n");
      partial = parts.pop() ?? "";
      for (const line of parts) {
        log.push(line);
        if (Deno.env.get("TEST_LOGS")) console.error(`[${dataDir}] ${line}`);
        const m = /cluster ready on (http:\/\/[\d.]+:\d+)/.exec(line);
        if (m) ready(m[1]);
      }
    }
  })();
  const endpoint = await Promise.race([
    readyP,
    proc.status.then((s) => {
      throw new Error(`start exited (${s.code}):\n${log.join("\n")}`);
    }),
    new Promise<never>((_, reject) =>
      setTimeout(
        () => reject(new Error(`no banner:\n${log.join("\n")}`)),
        120_000,
      )
    ),
  ]);
  return { proc, dataDir, endpoint, log };
}

async function adminOf(dataDir: string) {
  return JSON.parse(await Deno.readTextFile(`${dataDir}/admin.keypair`)) as {
    accessKey: string;
    secretKey: string;
  };
}

async function call<T>(
  s: Start,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const res = await signedFetch(
    s.endpoint,
    await adminOf(s.dataDir),
    method,
    path,
    body,
  );
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status}: ${text}`);
  return text ? JSON.parse(text) : ({} as T);
}

const query = async (s: Start, name: string, code: string) =>
  (await call<{ result: { console: [string, string][] } }>(
    s,
    "POST",
    `/session/${name}`,
    { mode: "query", code, runId: null },
  )).result.console;

async function stopStart(s: Start, signal: Deno.Signal = "SIGINT") {
  try {
    s.proc.kill(signal);
  } catch { /* gone */ }
  await s.proc.status;
}

Deno.test({
  name:
    "neighbours: two `deno task start` clusters side by side keep to their own kernels; kill -9 and an immediate restart",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dirA = await Deno.makeTempDir({ prefix: "bai-start-a-" });
    const dirB = await Deno.makeTempDir({ prefix: "bai-start-b-" });
    await Deno.chmod(dirA, 0o755);
    await Deno.chmod(dirB, 0o755);
    const ids: string[] = [];
    let a: Start | undefined;
    let b: Start | undefined;
    try {
      a = await start(dirA);
      b = await start(dirB);
      assert(a.endpoint !== b.endpoint, `${a.endpoint} vs ${b.endpoint}`);
      const idA = (await Deno.readTextFile(`${dirA}/agent.id`)).trim();
      const idB = (await Deno.readTextFile(`${dirB}/agent.id`)).trim();
      ids.push(idA, idB);
      assert(idA !== idB, "each data dir its own agent id");
      const pgA = (await Deno.readTextFile(`${dirA}/postgres.port`)).trim();
      const pgB = (await Deno.readTextFile(`${dirB}/postgres.port`)).trim();
      assert(pgA !== pgB, "each data dir its own Postgres port");

      assertEquals(
        (await call<{ status: string }>(a, "POST", "/session", {
          image: "python",
          name: "side-a",
        })).status,
        "RUNNING",
      );
      await query(a, "side-a", "who = 'A'");
      assertEquals(
        (await call<{ status: string }>(b, "POST", "/session", {
          image: "python",
          name: "side-b",
        })).status,
        "RUNNING",
      );
      await query(b, "side-b", "who = 'B'");

      // B restarts (Ctrl-C, then start again): its agent re-adopts its
      // kernel and leaves A's alone.
      await stopStart(b);
      b = await start(dirB);
      await eventually("B's kernel re-adopted", async () => {
        const out = await query(b!, "side-b", "print(who)").catch(() =>
          undefined
        );
        return out?.some(([, t]) => t === "B\n") ? true : undefined;
      }, 60_000);
      assertEquals(await query(a, "side-a", "print(who)"), [["stdout", "A\n"]]);

      // A is killed with -9 and started again at once.
      await stopStart(a, "SIGKILL");
      a = await start(dirA);
      assert(
        !a.log.some((l) => l.includes("Address already in use")),
        a.log.join("\n"),
      );
      await eventually("A's kernel re-adopted after kill -9", async () => {
        const out = await query(a!, "side-a", "print(who)").catch(() =>
          undefined
        );
        return out?.some(([, t]) => t === "A\n") ? true : undefined;
      }, 60_000);
      assertEquals(await query(b, "side-b", "print(who)"), [["stdout", "B\n"]]);

      // B's agent forced onto A's id: A's container carries that label, but
      // its work dir is not in B's data dir, so B leaves it running.
      await stopStart(b);
      b = await start(dirB, { LOCAL_AGENT_ID: idA });
      // The agent says so once it has looked (its start may take a while
      // on a loaded machine).
      const bNow = b;
      await eventually(
        "B's agent to see A's container and leave it alone",
        () =>
          Promise.resolve(
            bNow.log.some((l) => l.includes("left alone")) ? true : undefined,
          ),
        60_000,
      ).catch(() => {
        throw new Error(
          `B's agent saw A's container and left it:\n${bNow.log.join("\n")}`,
        );
      });
      assertEquals(await query(a, "side-a", "print(who)"), [["stdout", "A\n"]]);
    } finally {
      if (a) await stopStart(a);
      if (b) await stopStart(b);
      await removeContainersOf(ids);
      await Deno.remove(dirA, { recursive: true }).catch(() => {});
      await Deno.remove(dirB, { recursive: true }).catch(() => {});
    }
  },
});
