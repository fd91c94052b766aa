/**
 * Kernel channels at the agent level (real Docker, the python image, the
 * real cluster transport between an owner's node and the agent node;
 * tests/fixtures/agent_pair.ts). stdout: only `BENCH <name> <value>` lines.
 *   channel.tcp_out_mib_s   kernel → owner: a loopback server in the kernel
 *                           streams 64 MiB; the owner credits as it receives
 *   channel.tcp_in_mib_s    owner → kernel: 32 MiB written within credit to a
 *                           sink in the kernel
 *   channel.pty_echo_p50_ms one keystroke to its echo through a terminal
 */
import { Actor, type ActorRef } from "../../actors/runtime/types.ts";
import { startAgentPair } from "../fixtures/agent_pair.ts";
import type { ChannelOpened } from "../../actors/agent/channel_relay.ts";
import type { KernelMsg } from "../../actors/protocol/agent.ts";

const MiB = 2 ** 20;

/** Credits every byte it receives at once, and counts them. */
class Crediting extends Actor<Record<string, unknown>> {
  bytes = 0;
  credit = 0;
  done: () => void = () => {};
  /** Woken by the next data / the next credit. */
  onData: (() => void)[] = [];
  onCredit: (() => void)[] = [];
  constructor(readonly kernel: ActorRef<KernelMsg>) {
    super();
  }
  receive(m: Record<string, unknown>) {
    if (m.type === "channel.data") {
      const n = Math.floor(String(m.data).length / 4) * 3; // close enough for a rate
      this.bytes += n;
      this.kernel.tell({
        type: "channel.credit",
        channelId: String(m.channelId),
        bytes: n,
      });
      for (const w of this.onData.splice(0)) w();
    } else if (m.type === "channel.credit") {
      this.credit += Number(m.bytes);
      for (const w of this.onCredit.splice(0)) w();
    } else if (m.type === "channel.eof" || m.type === "channel.closed") {
      this.done();
    }
  }
}

function p50(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const pair = await startAgentPair();
const session = pair.owner("bench-session", false);
const kernelId = "bench-chan";
await pair.agent.ask({
  type: "kernel.create",
  sessionId: "bench",
  kernelId,
  image: "python",
  slots: { cpu: 2, mem: 1024 * MiB },
  environ: {},
  mounts: [],
  owner: session.ref,
}, { timeoutMs: 60_000 });
const kernel = pair.kernel(kernelId);

/** Starts a helper process in the kernel and waits until its port accepts. */
async function serve(port: number, body: string): Promise<void> {
  const runId = `serve-${port}`;
  const code = "import subprocess, socket, time\n" +
    `subprocess.Popen(['python3', '-c', ${
      JSON.stringify(body)
    }], start_new_session=True)\n` +
    "for _ in range(100):\n" +
    `    try:\n        socket.create_connection(('127.0.0.1', ${port}), 1).close(); break\n` +
    "    except OSError:\n        time.sleep(0.1)\n";
  await kernel.ask({ type: "exec", runId, mode: "query", code, opts: {} });
  await session.inbox.until(
    (items) =>
      items.some((m) =>
        (m as { runId?: string; ev?: { ev?: string } }).runId === runId &&
        (m as { ev: { ev: string } }).ev.ev === "done"
      ),
    `server on ${port}`,
  );
}

const total = 64 * MiB;
await serve(
  9001,
  "import socket\ns=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', 9001)); s.listen()\n" +
    "while True:\n c,_=s.accept(); b=b'z'*65536\n try:\n  [c.sendall(b) for _ in range(" +
    total / 65536 + ")]\n except OSError: pass\n c.close()",
);
await serve(
  9002,
  "import socket\ns=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', 9002)); s.listen()\n" +
    "while True:\n c,_=s.accept()\n while c.recv(1 << 20): pass\n c.close()",
);

// kernel → owner
{
  let owner!: Crediting;
  const ref = pair.manager.spawn(() => (owner = new Crediting(kernel)), {
    name: "bench-out",
  });
  const finished = new Promise<void>((r) => (owner.done = r));
  const t0 = performance.now();
  await kernel.ask({
    type: "channel.open",
    channelId: "out",
    kind: "tcp",
    port: 9001,
    owner: ref,
    window: 4 * MiB,
  });
  await finished;
  const secs = (performance.now() - t0) / 1000;
  console.error(`out: ${owner.bytes} bytes in ${secs.toFixed(2)} s`);
  console.log(
    `BENCH channel.tcp_out_mib_s ${(owner.bytes / MiB / secs).toFixed(1)}`,
  );
}

// owner → kernel, within the credit the kernel grants
{
  let owner!: Crediting;
  const ref = pair.manager.spawn(() => (owner = new Crediting(kernel)), {
    name: "bench-in",
  });
  const opened = await kernel.ask<ChannelOpened>({
    type: "channel.open",
    channelId: "in",
    kind: "tcp",
    port: 9002,
    owner: ref,
  });
  const chunk = btoa(String.fromCharCode(...new Uint8Array(64 * 1024)));
  const size = 64 * 1024;
  const totalIn = 32 * MiB;
  let sent = 0;
  const t0 = performance.now();
  while (sent < totalIn) {
    while (sent + size - owner.credit > opened.window) {
      await new Promise<void>((r) => owner.onCredit.push(r));
    }
    kernel.tell({ type: "channel.write", channelId: "in", data: chunk });
    sent += size;
  }
  while (owner.credit < totalIn) {
    await new Promise<void>((r) => owner.onCredit.push(r));
  }
  const secs = (performance.now() - t0) / 1000;
  console.log(
    `BENCH channel.tcp_in_mib_s ${(totalIn / MiB / secs).toFixed(1)}`,
  );
  kernel.tell({ type: "channel.close", channelId: "in" });
}

// a keystroke's round trip through a terminal
{
  let owner!: Crediting;
  const ref = pair.manager.spawn(() => (owner = new Crediting(kernel)), {
    name: "bench-pty",
  });
  await kernel.ask({
    type: "channel.open",
    channelId: "pty",
    kind: "pty",
    owner: ref,
  });
  await new Promise((r) => setTimeout(r, 500)); // the prompt
  const rtt: number[] = [];
  for (let i = 0; i < 200; i++) {
    const echoed = new Promise<void>((r) => owner.onData.push(r));
    const t0 = performance.now();
    kernel.tell({ type: "channel.write", channelId: "pty", data: btoa("x") });
    await echoed;
    rtt.push(performance.now() - t0);
  }
  console.log(`BENCH channel.pty_echo_p50_ms ${p50(rtt).toFixed(2)}`);
  kernel.tell({ type: "channel.close", channelId: "pty" });
}

await pair[Symbol.asyncDispose]();
// Something of the pair outlives its dispose here (the process stayed up
// after printing every figure): exit rather than hang `deno task bench`.
Deno.exit(0);
