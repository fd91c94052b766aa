/**
 * The agent's container layer against the real Docker engine: lifecycle,
 * hardening seen from inside the container, OOM detection, metering.
 * Uses the TEST STUB runner image (tests/fixtures/agent_test_image.ts) unless
 * AGENT_TEST_IMAGE names a real kernel image.
 */
import assert from "node:assert/strict";
import { DockerError } from "../actors/agent/docker/mod.ts";
import { KernelDiedError, LABELS } from "../actors/agent/kernel/mod.ts";
import { KernelMeter } from "../actors/agent/metering/mod.ts";
import {
  agentTestEnv,
  dockerSkipReason,
  runCode,
} from "./fixtures/agent_docker.ts";

const ignore = dockerSkipReason !== null;
const MiB = 2 ** 20;

Deno.test({
  name: "agent container: full lifecycle through the modules",
  ignore,
}, async () => {
  await using env = await agentTestEnv();
  const k = await env.launcher.launch({
    image: env.image,
    kernelId: "k-life",
    sessionId: "s-life",
    owner: "AKTEST",
    slots: { cpu: 1, mem: 256 * MiB },
  });
  assert.equal(k.connection.ready.lang, "python");
  const info = await env.docker.inspectContainer(k.containerId);
  assert.equal(info.State.Running, true);
  assert.equal(info.Config?.Labels?.[LABELS.kernelId], "k-life");
  assert.equal(info.Config?.Labels?.[LABELS.sessionId], "s-life");
  assert.equal(info.HostConfig?.NetworkMode, "none");
  assert.equal(info.HostConfig?.ReadonlyRootfs, true);

  const r = await runCode(
    k.connection,
    "x = 6 * 7\nprint(x)\nimport sys; print('e', file=sys.stderr)",
  );
  assert.equal(r.stdout, "42\n");
  assert.equal(r.stderr, "e\n");
  assert.equal(r.exitCode, 0);
  // State persists between runs (query mode is a REPL).
  assert.equal((await runCode(k.connection, "print(x + 1)")).stdout, "43\n");
  await k.connection.put("hello.txt", new TextEncoder().encode("hi"));
  assert.equal(
    new TextDecoder().decode(await k.connection.get("hello.txt")),
    "hi",
  );
  assert.equal(
    await Deno.readTextFile(`${k.dirs.work}/hello.txt`),
    "hi",
    "work dir is the host dir",
  );
  await k.connection.ping();

  const found = await env.docker.listContainers({
    labels: { [LABELS.kernelId]: "k-life" },
  });
  assert.deepEqual(found.map((c) => c.Id), [k.containerId]);

  const pending = k.connection.ping().catch((e) => e);
  const exit = await env.launcher.destroy(k);
  assert.equal(exit?.exitCode, 137);
  assert.equal(exit?.oomKilled, false);
  const err = await pending;
  assert.ok(err === undefined || err instanceof KernelDiedError);
  await assert.rejects(
    env.docker.inspectContainer(k.containerId),
    (e) => e instanceof DockerError && e.status === 404,
  );
  await assert.rejects(Deno.stat(k.dirs.root), Deno.errors.NotFound);
});

Deno.test({
  name: "agent container: hardening holds inside the container",
  ignore,
}, async () => {
  await using env = await agentTestEnv();
  const k = await env.launcher.launch({
    image: env.image,
    kernelId: "k-hard",
    sessionId: "s-hard",
    slots: { cpu: 1, mem: 256 * MiB },
    pidsLimit: 64,
  });
  const probe = await runCode(
    k.connection,
    `
import os
ifaces = sorted(l.split(':')[0].strip() for l in open('/proc/net/dev').read().splitlines()[2:])
status = dict(l.split(':\\t', 1) for l in open('/proc/self/status').read().splitlines() if ':\\t' in l)
try:
    open('/usr/evil', 'w'); usr = 'writable'
except OSError as e:
    usr = 'denied'
open('/home/work/ok', 'w').write('1'); open('/tmp/ok', 'w').write('1')
print(ifaces, status['CapEff'].strip(), status['NoNewPrivs'].strip(), usr, os.getuid(), os.getgid())
`,
  );
  assert.equal(probe.stderr, "");
  assert.equal(
    probe.stdout.trim(),
    "['lo'] 0000000000000000 1 denied 1000 1000",
  );

  // A fork loop hits the pids limit (64) and is contained: the kernel lives on.
  const fork = await runCode(
    k.connection,
    `
import subprocess
procs, err = [], None
for i in range(200):
    try:
        procs.append(subprocess.Popen(['sleep', '30']))
    except OSError as e:
        err = type(e).__name__
        break
print(len(procs), err)
for p in procs: p.kill()
for p in procs: p.wait()
`,
  );
  const [count, errName] = fork.stdout.trim().split(" ");
  assert.ok(Number(count) < 64, `spawned ${count} before the limit`);
  assert.notEqual(errName, "None", "the pids limit stopped the loop");
  assert.equal(
    (await runCode(k.connection, "print('alive')")).stdout,
    "alive\n",
  );
  await env.launcher.destroy(k);
});

Deno.test({
  name: "agent container: OOM is detected and other kernels keep working",
  ignore,
}, async () => {
  await using env = await agentTestEnv();
  const [victim, bystander] = await Promise.all([
    env.launcher.launch({
      image: env.image,
      kernelId: "k-oom",
      sessionId: "s",
      slots: { cpu: 1, mem: 64 * MiB },
    }),
    env.launcher.launch({
      image: env.image,
      kernelId: "k-ok",
      sessionId: "s",
      slots: { cpu: 1, mem: 128 * MiB },
    }),
  ]);
  const run = victim.connection.exec(
    "hog = [bytearray(8 * 1024 * 1024) for _ in range(64)]",
  );
  await assert.rejects(run.done, KernelDiedError);
  const exit = await env.launcher.exitInfo(victim.containerId);
  assert.ok(
    exit.oomKilled || exit.exitCode === 137,
    `exit ${JSON.stringify(exit)}`,
  );
  assert.equal(exit.oomKilled, true, "engine reports OOMKilled");
  assert.equal(
    (await runCode(bystander.connection, "print(sum(range(10)))")).stdout,
    "45\n",
  );
  await env.launcher.destroy(victim);
  await env.launcher.destroy(bystander);
});

Deno.test({
  name: "agent container: metering is non-zero after a CPU-burning run",
  ignore,
}, async () => {
  await using env = await agentTestEnv();
  const k = await env.launcher.launch({
    image: env.image,
    kernelId: "k-meter",
    sessionId: "s",
    slots: { cpu: 1, mem: 256 * MiB },
  });
  const meter = new KernelMeter(k.containerId, { intervalMs: 100 });
  meter.start();
  await runCode(
    k.connection,
    "n = 0\nfor i in range(3_000_000): n += i\nbuf = bytearray(20 * 1024 * 1024)\nopen('/home/work/f','wb').write(buf)",
  );
  const totals = await meter.stop();
  assert.ok(totals, "a sample was taken");
  assert.ok(totals.cpuMs > 50, `cpuMs ${totals.cpuMs}`);
  assert.ok(
    totals.memKiB > 0 && totals.memPeakKiB >= totals.memKiB,
    JSON.stringify(totals),
  );
  assert.ok(
    totals.memPeakKiB > 20 * 1024,
    `peak ${totals.memPeakKiB} KiB covers the 20 MiB buffer`,
  );
  await env.launcher.destroy(k);
  // After removal the cgroup is gone; the meter keeps its totals.
  assert.deepEqual(await meter.sample(), totals);
});
