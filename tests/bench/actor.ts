/**
 * Actor runtime benchmark: tells/s through one actor, local ask p50, spawns/s,
 * and the heap held by 1,000,000 idle actors. Prints `BENCH <name> <value>`
 * lines on stdout only; progress goes to stderr. The heap figure is measured
 * in a child process started with `--expose-gc` so garbage does not count.
 *
 *   deno run -A tests/bench/actor.ts
 */

import { Actor, ActorSystem } from "../../actors/runtime/mod.ts";

class Counter extends Actor<number | "get"> {
  n = 0;
  receive(msg: number | "get"): number | undefined {
    if (msg === "get") return this.n;
    this.n++;
    return undefined;
  }
}

class Echo extends Actor<number> {
  receive(msg: number): number {
    return msg;
  }
}

class Idle extends Actor<unknown> {
  receive(): void {}
}

const progress = (s: string) => console.error(`[bench actor] ${s}`);

async function tellThroughput(): Promise<number> {
  const system = new ActorSystem({ nodeId: "bench" });
  const ref = system.spawn(() => new Counter());
  const round = async (n: number) => {
    const before = await ref.ask<number>("get");
    const t0 = performance.now();
    for (let i = 0; i < n; i++) ref.tell(i);
    const after = await ref.ask<number>("get");
    if (after - before !== n) throw new Error("lost messages");
    return n / ((performance.now() - t0) / 1000);
  };
  await round(200_000); // warm-up
  const rates: number[] = [];
  for (let r = 0; r < 5; r++) rates.push(await round(2_000_000));
  await system.shutdown();
  rates.sort((a, b) => a - b);
  return rates[2];
}

async function askP50(): Promise<number> {
  const system = new ActorSystem({ nodeId: "bench" });
  const ref = system.spawn(() => new Echo());
  for (let i = 0; i < 50_000; i++) await ref.ask(i); // warm-up
  // performance.now() is too coarse for one ask: time batches of 100.
  const batch = 100;
  const samples: number[] = [];
  for (let b = 0; b < 2000; b++) {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) await ref.ask(i);
    samples.push(((performance.now() - t0) * 1000) / batch);
  }
  await system.shutdown();
  samples.sort((a, b) => a - b);
  return samples[samples.length >> 1];
}

function spawnRate(): number {
  const system = new ActorSystem({ nodeId: "bench" });
  for (let i = 0; i < 20_000; i++) system.spawn(() => new Idle());
  const n = 300_000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) system.spawn(() => new Idle());
  return n / ((performance.now() - t0) / 1000);
}

/** Runs in the child process: heap growth holding 1M idle actors. */
function idleHeapChild(): void {
  const gc = (globalThis as { gc?: () => void }).gc!;
  const system = new ActorSystem({ nodeId: "bench" });
  gc();
  const before = Deno.memoryUsage().heapUsed;
  const refs = [];
  for (let i = 0; i < 1_000_000; i++) refs.push(system.spawn(() => new Idle()));
  refs.length = 0; // the system alone keeps them alive
  gc();
  const after = Deno.memoryUsage().heapUsed;
  if (system.guardian.children().length !== 1_000_000) {
    throw new Error("lost actors");
  }
  console.log(((after - before) / 2 ** 20).toFixed(1));
}

async function idleHeap(): Promise<number> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--v8-flags=--expose-gc,--max-old-space-size=4096",
      new URL(import.meta.url).pathname,
      "--idle-child",
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error("idle-heap child failed");
  return Number(new TextDecoder().decode(out.stdout).trim());
}

if (Deno.args.includes("--idle-child")) {
  idleHeapChild();
} else {
  progress("tell throughput");
  const tells = await tellThroughput();
  console.log(`BENCH actor.local.tell_per_s ${Math.round(tells)}`);
  progress("ask latency");
  const p50 = await askP50();
  console.log(`BENCH actor.local.ask_p50_us ${p50.toFixed(2)}`);
  progress("spawn rate");
  const spawns = spawnRate();
  console.log(`BENCH actor.spawn_per_s ${Math.round(spawns)}`);
  progress("1M idle actors");
  const heap = await idleHeap();
  console.log(`BENCH actor.idle_1m_heap_mib ${heap}`);
}
