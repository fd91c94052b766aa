/**
 * Sessions from the warm pool, through the public API on a real cluster
 * (manager + agent processes, real Docker, the python image): a session of
 * any size gets a pooled container whose limits, read from the container's
 * own cgroup, are the ones it asked for; and a session never gets another
 * session's leftovers (environment, work dir files, interpreter state,
 * mounts, scratch quota, log lines), whether its pooled container is fresh
 * or one an earlier session ended in, reset (the reset itself is tested in
 * depth in agent_pool_recycle_test.ts).
 *
 * Needs the python image; the scratch-quota part needs btrfs quota volumes
 * (root, btrfs-progs) and is skipped with the reason otherwise.
 */
import assert from "node:assert/strict";
import { startCluster, type TestCluster } from "./support/cluster.ts";
import { eventually } from "./support/eventually.ts";
import { quotaVolumesMissing } from "./support/quota_volumes.ts";
import { kernelDirs } from "../actors/agent/kernel/workdir.ts";
import { imageMissing } from "./support/images.ts";

const MiB = 2 ** 20;
const missing = await imageMissing("python");
if (missing) console.error(`agent_pool_sessions_test: skipped: ${missing}`);
const noQuota = await quotaVolumesMissing();

type Console = [string, string][];

async function run(c: TestCluster, name: string, code: string) {
  const r = await c.json<
    { result: { status: string; console: Console } }
  >("POST", `/session/${name}`, { mode: "query", code, runId: null });
  assert.equal(r.result.status, "finished", JSON.stringify(r));
  return {
    stdout: r.result.console.filter(([s]) => s === "stdout").map(([, d]) => d)
      .join(""),
    stderr: r.result.console.filter(([s]) => s === "stderr").map(([, d]) => d)
      .join(""),
  };
}

/** The agent's record of the kernel serving `sessionId`, and its dir. */
async function kernelRecord(c: TestCluster, sessionId: string) {
  const root = `${c.dataDir}/${c.agents[0].id}/kernels`;
  for await (const e of Deno.readDir(root)) {
    try {
      const rec = JSON.parse(
        await Deno.readTextFile(`${root}/${e.name}/kernel.json`),
      );
      if (rec.sessionId === sessionId) return { rec, dir: `${root}/${e.name}` };
    } catch { /* not a kernel dir, or no record yet */ }
  }
  return undefined;
}

async function poolIdle(agentId: string): Promise<string[]> {
  const out = await new Deno.Command("docker", {
    args: [
      "ps",
      "-q",
      "--no-trunc",
      "--filter",
      `label=ai.backend.agent-id=${agentId}`,
      "--filter",
      "label=ai.backend.pool",
    ],
    stdout: "piped",
  }).output();
  return new TextDecoder().decode(out.stdout).split("\n").filter(Boolean);
}

async function inspect(id: string) {
  const out = await new Deno.Command("docker", {
    args: ["inspect", id],
    stdout: "piped",
  }).output();
  return JSON.parse(new TextDecoder().decode(out.stdout))[0];
}

const LIMITS = `
def r(p):
    return open("/sys/fs/cgroup/" + p).read().strip()
print(r("memory/memory.limit_in_bytes"), r("memory/memory.memsw.limit_in_bytes"),
      r("cpu/cpu.cfs_quota_us"), r("cpu/cpu.cfs_period_us"), r("pids/pids.max"))
`;

Deno.test({
  name:
    "pool sessions: any size starts warm with exactly its limits; no leftovers between sessions",
  ignore: missing !== undefined,
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  const c = await startCluster({
    agents: 1,
    poolSize: 1,
    agentArgs: () => ["--scratch-quota", "64m"],
  });
  try {
    const agentId = c.agents[0].id;
    const ready = () =>
      eventually("a warm container in the pool", async () => {
        // Idle pool containers have no record naming a session yet; one
        // started a second ago has said `ready` (the pool lists it then).
        for (const id of await poolIdle(agentId)) {
          const busy = await kernelRecordOfContainer(c, id);
          const started = Date.parse((await inspect(id)).State.StartedAt);
          if (!busy && Date.now() - started > 1000) return id;
        }
        return undefined;
      });

    await ready();
    const a = await c.json<{ sessionId: string; status: string }>(
      "POST",
      "/session",
      {
        image: "python",
        name: "pool-a",
        config: {
          resources: { cpu: 1, mem: "512m" },
          environ: { SESSION_MARK: "from-a" },
        },
      },
    );
    assert.equal(a.status, "RUNNING");
    const recA = await kernelRecord(c, a.sessionId);
    assert.equal(recA?.rec.fromPool, true, "A came from the pool");

    await t.step("the limits inside are the requested ones", async () => {
      const out = await run(c, "pool-a", LIMITS);
      assert.equal(
        out.stdout.trim(),
        [512 * MiB, 512 * MiB, 100_000, 100_000, 256].join(" "),
      );
    });

    // A leaves what a careless next tenant could find.
    const leave = await run(
      c,
      "pool-a",
      [
        "import os",
        "open('/home/work/a-secret.txt', 'w').write('secret')",
        "os.environ['A_RUNTIME'] = '1'",
        "a_state = 42",
        "print(os.environ['SESSION_MARK'])",
      ].join("\n"),
    );
    assert.equal(leave.stdout, "from-a\n", "A sees its own environment");
    await c.json("DELETE", "/session/pool-a");

    await ready();
    const b = await c.json<{ sessionId: string; status: string }>(
      "POST",
      "/session",
      {
        image: "python",
        name: "pool-b",
        config: {
          resources: { cpu: 2, mem: "768m" },
          environ: { SESSION_MARK: "from-b" },
        },
      },
    );
    const recB = await kernelRecord(c, b.sessionId);
    assert.equal(recB?.rec.fromPool, true, "B came from the pool too");
    // B gets a fresh container or A's, reset (whichever the pool holds).
    const reused = recB?.rec.containerId === recA?.rec.containerId;
    if (!reused) assert.notEqual(recB?.dir, recA?.dir, "a work dir of its own");

    await t.step("B's container is B's alone", async () => {
      const out = await run(
        c,
        "pool-b",
        [
          "import os",
          "print(os.environ.get('SESSION_MARK'), 'A_RUNTIME' in os.environ,",
          "      sorted(os.listdir('/home/work')), 'a_state' in globals())",
        ].join("\n"),
      );
      assert.equal(out.stdout, "from-b False [] False\n");
      assert.equal(
        (await run(c, "pool-b", LIMITS)).stdout.trim(),
        [768 * MiB, 768 * MiB, 200_000, 100_000, 256].join(" "),
      );
      // The only host paths inside are B's own work dir and, read-only,
      // the dir of its runner's socket (kernel/lane.ts).
      const info = await inspect(recB!.rec.containerId);
      const key = recB!.dir.split("/").pop()!;
      const dataDir = recB!.dir.slice(0, -`/kernels/${key}`.length);
      assert.deepEqual(info.HostConfig.Binds, [
        `${recB!.dir}/work:/home/work:rw`,
        `${kernelDirs(dataDir, key).lane}:/run/bai:ro`,
      ]);
      if (!reused) { // A's container and dir are gone
        assert.equal(
          (await new Deno.Command("docker", {
            args: ["inspect", recA!.rec.containerId],
            stdout: "null",
            stderr: "null",
          }).output()).success,
          false,
        );
        await assert.rejects(Deno.stat(recA!.dir));
      }
    });

    await t.step({
      name: "B's scratch quota is its own",
      ignore: noQuota !== undefined,
      fn: async () => {
        const out = await run(
          c,
          "pool-b",
          [
            "import os",
            "try:",
            "    with open('/home/work/big', 'wb') as f:",
            "        for _ in range(100):",
            "            f.write(b'x' * (1 << 20))",
            "            f.flush()",
            "            os.fsync(f.fileno())",
            "    print('wrote 100 MiB')",
            "except OSError as e:",
            "    print('refused', e.errno)",
            "os.remove('/home/work/big')",
          ].join("\n"),
        );
        assert.equal(out.stdout, "refused 122\n", "EDQUOT at the 64 MiB quota");
      },
    });
    if (noQuota) console.error(`scratch quota step skipped: ${noQuota}`);
    await c.json("DELETE", "/session/pool-b");
  } finally {
    await c.stop();
  }
});

/** The record naming a session for container `id`, if it was taken. */
async function kernelRecordOfContainer(c: TestCluster, id: string) {
  const root = `${c.dataDir}/${c.agents[0].id}/kernels`;
  for await (const e of Deno.readDir(root)) {
    try {
      const rec = JSON.parse(
        await Deno.readTextFile(`${root}/${e.name}/kernel.json`),
      );
      if (rec.containerId === id && rec.sessionId) return rec;
    } catch { /* no record: an idle pool container */ }
  }
  return undefined;
}

Deno.test({
  name:
    "pool sessions: sessions in a row are served by reset containers, each from a clean slate",
  ignore: missing !== undefined,
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const c = await startCluster({ agents: 1, poolSize: 1 });
  try {
    const served: string[] = [];
    for (let i = 0; i < 8; i++) {
      const name = `row-${i}`;
      await c.json("POST", "/session", { image: "python", name });
      const out = await run(
        c,
        name,
        [
          "import os",
          "print(os.listdir('/home/work'), 'mark' in globals(),",
          "      open('/proc/self/cgroup').read().strip().split('/')[-1])",
          "mark = 1",
          "open('/home/work/left.txt', 'w').write('x')",
          `os.write(5, b'log-of-${i}\\n')`,
        ].join("\n"),
      );
      assert.equal(out.stdout.startsWith("[] False "), true, out.stdout);
      // The container's log comes through the engine's log driver, which
      // may write it a moment after the run's end came over the lane.
      const logs = await eventually(`session ${i}'s log line`, async () => {
        const l = await c.json<{ result: { logs: string } }>(
          "GET",
          `/session/${name}/logs`,
        );
        return l.result.logs.includes(`log-of-${i}`) ? l : undefined;
      });
      for (let j = 0; j < i; j++) {
        assert.ok(
          !logs.result.logs.includes(`log-of-${j}\n`),
          `session ${i} sees the log of ${j}`,
        );
      }
      served.push(out.stdout.trim().split(" ").at(-1)!);
      await c.json("DELETE", `/session/${name}`);
    }
    // Each create took the pool's container and the pool refilled behind
    // it; a session ending before that refill finished gave its container
    // back, so some container served more than one session.
    assert.ok(
      new Set(served).size < served.length,
      `containers reused: ${served.join(" ")}`,
    );
  } finally {
    await c.stop();
  }
});
