/**
 * A pool container reused after a reset (actors/agent/pool/recycle.ts,
 * images/runner/bai_init.py), against the real engine and the python
 * kernel image: a session that leaves everything it can behind (files in
 * every writable dir, locked-out dirs, System V IPC, POSIX message queues,
 * processes in new sessions and daemons, interpreter state, environment,
 * memory and CPU use, half a frame on the protocol stream, signals to the
 * init) is followed in the same container by one that finds none of it.
 *
 * Needs the python image (the test stub runner has no init that resets).
 */
import assert from "node:assert/strict";
import { WarmPool, type WarmPoolOptions } from "../actors/agent/pool/mod.ts";
import type { LaunchedKernel } from "../actors/agent/kernel/mod.ts";
import {
  type AgentTestEnv,
  agentTestEnv,
  dockerSkipReason,
  runCode,
} from "./fixtures/agent_docker.ts";
import { imageMissing } from "./support/images.ts";

const IMAGE = "bai/python:3.11-bookworm";
const MiB = 2 ** 20;
const slots = { cpu: 1, mem: 512 * MiB };
const skip = dockerSkipReason ?? (await imageMissing("python")) ?? null;
if (skip) console.error(`agent_pool_recycle_test: skipped: ${skip}`);

/** What session A leaves behind, printing what it managed to leave. */
const LEAVE = `
import ctypes, os, signal, string, subprocess, time
libc = ctypes.CDLL(None, use_errno=True)
left = []
open('/home/work/secret.txt', 'w').write('a')
os.makedirs('/home/work/.locked/deep')
open('/home/work/.locked/deep/f', 'w').write('a')
os.chmod('/home/work/.locked', 0)
os.symlink('/etc/passwd', '/home/work/link')
os.write(5, b'a-log-marker\\n')  # the runner's copy of the container's stderr
open('/tmp/a.txt', 'w').write('a')
open('/dev/shm/a', 'w').write('a')
if libc.mq_open(b'/a-queue', os.O_CREAT | os.O_RDWR, 0o600, None) >= 0:
    left.append('mq')
if libc.shmget(0x5151, 4096, 0o1000 | 0o600) >= 0:
    left.append('shm')
if libc.semget(0x5152, 1, 0o1000 | 0o600) >= 0:
    left.append('sem')
if libc.msgget(0x5153, 0o1000 | 0o600) >= 0:
    left.append('msg')
try:
    os.setxattr('/home/work', 'user.a', b'1')
    left.append('xattr')
except OSError:
    pass
subprocess.Popen(['sleep', '1000'], start_new_session=True)
os.system('(sleep 999 &) ; true')
os.environ['A_RUNTIME'] = '1'
a_state = 42
string.capwords = lambda *a, **k: 'patched'
# The init takes signals only from outside the container.
os.kill(1, signal.SIGUSR1)
os.kill(1, signal.SIGTERM)
block = bytearray(200 << 20)
del block
t = time.process_time()
while time.process_time() - t < 0.4:
    pass
time.sleep(0.2)
print(' '.join(left))
`;

/** What session B checks, one line of facts. */
const CHECK = `
import json, os, string
def entries(d):
    return sorted(os.listdir(d))
def ipc(kind):
    return len(open('/proc/sysvipc/' + kind).read().splitlines()) - 1
def cg(p):
    return int(open('/sys/fs/cgroup/' + p).read())
print(json.dumps({
    'work': entries('/home/work'), 'tmp': entries('/tmp'),
    'shm': entries('/dev/shm'), 'mqueue': entries('/dev/mqueue'),
    'ipc': [ipc('shm'), ipc('sem'), ipc('msg')],
    'xattr': os.listxattr('/home/work'),
    'pids': sorted(int(p) for p in os.listdir('/proc') if p.isdigit()),
    'me': os.getpid(),
    'env': 'A_RUNTIME' in os.environ, 'state': 'a_state' in globals(),
    'capwords': string.capwords('a b'),
    'cpu_ms': cg('cpuacct/cpuacct.usage') // 1000000,
    'peak_mib': cg('memory/memory.max_usage_in_bytes') >> 20,
    'mem_limit_mib': cg('memory/memory.limit_in_bytes') >> 20,
}))
`;

/**
 * Two warm containers, and no refill while stock is left: the pool wants
 * back every container a session ends in, and hands out the newest first.
 */
async function filledPool(
  env: AgentTestEnv,
  options: Partial<WarmPoolOptions>,
): Promise<WarmPool> {
  const pool = new WarmPool({
    launcher: env.launcher,
    targets: { [IMAGE]: 2 },
    refillDelayMs: 600_000,
    slots: { cpu: 1, mem: 1024 * MiB },
    budget: 4096 * MiB,
    ...options,
  });
  pool.start();
  await pool.settled();
  return pool;
}

Deno.test({
  name:
    "agent pool: a reset container serves the next session with nothing of the last",
  ignore: skip !== null,
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  await using env = await agentTestEnv();
  const errors: unknown[] = [];
  const pool = await filledPool(env, { onError: (_i, e) => errors.push(e) });
  const take = async (name: string, size = slots) => {
    const k = await pool.take(IMAGE, size, {
      kernelId: name,
      sessionId: name,
    });
    assert.ok(k, `${name}: a warm container`);
    return k;
  };
  /** The session ends as the agent ends it: the actor closes, the host gives back. */
  const end = async (k: LaunchedKernel) => {
    k.connection.close();
    return await pool.giveBack(k);
  };
  try {
    const a = await take("a");
    assert.equal(a.connection.ready.resettable, true);
    const left = await runCode(a.connection, LEAVE);
    assert.equal(left.status, "finished", left.stderr);
    const what = left.stdout.trim().split(" ");
    for (const x of ["mq", "shm", "sem", "msg"]) {
      assert.ok(what.includes(x), `A left a ${x}: ${left.stdout}`);
    }
    assert.ok(
      (await runCode(a.connection, "print('still here')")).stdout ===
        "still here\n",
      "signals to the init from inside are ignored",
    );
    assert.equal(await end(a), true, `reset: ${errors.join("; ")}`);

    const b = await take("b", { cpu: 1, mem: 768 * MiB });
    assert.equal(b.containerId, a.containerId, "the same container, reused");
    await t.step("B finds nothing of A", async () => {
      const out = await runCode(b.connection, CHECK);
      assert.equal(out.status, "finished", out.stderr);
      const facts = JSON.parse(out.stdout);
      assert.deepEqual(facts.work, []);
      assert.deepEqual(facts.tmp, []);
      assert.deepEqual(facts.shm, []);
      assert.deepEqual(facts.mqueue, []);
      assert.deepEqual(facts.ipc, [0, 0, 0]);
      assert.deepEqual(facts.xattr, []);
      assert.deepEqual(facts.pids, [1, facts.me], "the init and B's runner");
      assert.equal(facts.env, false);
      assert.equal(facts.state, false);
      assert.equal(facts.capwords, "A B", "modules as imported");
      assert.ok(facts.cpu_ms < 300, `cpu counter from zero: ${facts.cpu_ms}`);
      assert.ok(facts.peak_mib < 150, `peak from zero: ${facts.peak_mib}`);
      assert.equal(facts.mem_limit_mib, 768, "B's own size");
    });

    await t.step("B's log is B's alone", async () => {
      await runCode(b.connection, "import os\nos.write(5, b'b-log-marker\\n')");
      const all = await env.docker.containerLogs(b.containerId, {
        stdout: false,
      });
      assert.ok(all.includes("a-log-marker"), "the container's whole log");
      assert.ok(b.resetAt !== undefined);
      // The log driver may write the line a moment after the run's end
      // came over the lane (which bypasses it).
      let since = "";
      for (let i = 0; i < 100 && !since.includes("b-log-marker"); i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, 50));
        since = await env.docker.containerLogs(b.containerId, {
          stdout: false,
          sinceMs: b.resetAt,
        });
      }
      assert.ok(since.includes("b-log-marker"), since);
      assert.ok(!since.includes("a-log-marker"), since);
    });

    await t.step(
      "half a frame left on the protocol stream is skipped",
      async () => {
        // The runner's protocol out is its socket on the lane
        // (kernel/lane.ts); fd 4, its copy of the container's stdout, is
        // where it was before and where it falls back to: half a frame on
        // both. The run's own answer is swallowed by the one on the
        // socket: it never ends.
        const hostile = b.connection.exec([
          "import os, struct",
          "half = struct.pack('>I', 4096) + b'{\"ev\":\"ready\"'",
          "os.write(4, half)",
          "for f in sorted(map(int, os.listdir('/proc/self/fd'))):",
          "    try: kind = os.readlink('/proc/self/fd/%d' % f)",
          "    except OSError: continue  # listdir's own",
          "    if kind.startswith('socket:'): lane = f",
          "os.write(lane, half)",
          "print('x')",
        ].join("\n"));
        hostile.done.catch(() => undefined);
        await new Promise((r) => setTimeout(r, 300));
        assert.equal(await end(b), true, `reset: ${errors.join("; ")}`);
        await assert.rejects(hostile.done);
        const c = await take("c");
        assert.equal(c.containerId, a.containerId);
        const out = await runCode(c.connection, "print(6 * 7)");
        assert.equal(out.stdout, "42\n");
        assert.equal(await end(c), true);
      },
    );

    await t.step("a container the pool does not want is not kept", async () => {
      const d = await take("d");
      const e = await take("e");
      await pool.settled(); // no stock left: it refilled to two at once
      assert.equal(pool.size(IMAGE), 2);
      assert.equal(await end(d), false);
      assert.equal(await end(e), false);
      await Promise.all([env.launcher.destroy(d), env.launcher.destroy(e)]);
    });
  } finally {
    await pool.close();
  }
});

Deno.test({
  name: "agent pool: with recycling off (--no-recycle) no container comes back",
  ignore: skip !== null,
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  await using env = await agentTestEnv();
  const pool = await filledPool(env, { recycle: false });
  try {
    const k = await pool.take(IMAGE, slots, { kernelId: "n", sessionId: "n" });
    assert.ok(k);
    assert.equal(k.connection.keepOpen, false, "closing it closes the stream");
    k.connection.close();
    assert.equal(k.connection.isDead, true);
    assert.equal(await pool.giveBack(k), false);
    await env.launcher.destroy(k);
  } finally {
    await pool.close();
  }
});
