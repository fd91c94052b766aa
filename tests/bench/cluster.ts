/**
 * Cluster transport benchmark, two processes on loopback.
 *
 * - `cluster.remote.tell_per_s`: one-way tells of a small message from this
 *   process to an actor in the child, counted when the child's actor has
 *   received them all (an ask after the last tell, FIFO behind it); best of
 *   3 rounds of 500,000 (`BENCH_CLUSTER_TELLS` changes the round size).
 * - `cluster.remote.ask_p50_us`: median round trip of sequential asks to an
 *   echo actor in the child.
 * - `cluster.remote.large_mib_per_s`: 20 MiB tells (fragmented) to the
 *   child, MiB per second until the last has arrived.
 * - `cluster.remote.ask_p50_us_during_large`: median round trip of small
 *   asks to another actor while those 20 MiB tells are on their way (small
 *   frames go between the fragments, so this stays near the plain figure).
 *
 * The tell loop yields to the event loop after every 4,096 tells with
 * `setImmediate`, a macrotask turn in which the socket writes progress.
 * (Until 2026-12 it yielded with `setTimeout(0)`, which Deno clamps to
 * about 2 ms: a 2 ms sleep per 4,096 tells capped the figure near 2 M/s
 * and made it measure the timer more than the transport.)
 *
 * Usage: deno run -A tests/bench/cluster.ts   (the child runs this file with `child`)
 */
import { setImmediate } from "node:timers";
import { ActorSystem } from "../../actors/runtime/mod.ts";
import { Actor } from "../../actors/runtime/types.ts";
import { Cluster } from "../../actors/cluster/mod.ts";
import { firstLine } from "./_child.ts";

const SECRET = crypto.randomUUID();
const TELLS = Number(Deno.env.get("BENCH_CLUSTER_TELLS") ?? 500_000);
const ROUNDS = 3;
const ASKS = 20_000;

class Counter extends Actor<unknown> {
  n = 0;
  receive(msg: unknown) {
    if (msg === "get") return this.n;
    this.n++;
  }
}

class Echo extends Actor<unknown> {
  receive(msg: unknown) {
    return msg;
  }
}

/** Counts the large tells it got and their characters. */
class Sink extends Actor<unknown> {
  n = 0;
  chars = 0;
  receive(msg: unknown) {
    if (msg === "get") return [this.n, this.chars];
    this.n++;
    this.chars += (msg as string).length;
  }
}

const LARGE = 20 * 1024 * 1024;
const LARGE_COUNT = 10;

if (Deno.args[0] === "child") {
  const system = new ActorSystem({ nodeId: "bench-child" });
  const cluster = new Cluster(system, { secret: Deno.args[1], log: () => {} });
  system.spawn(() => new Counter(), { name: "counter" });
  system.spawn(() => new Echo(), { name: "echo" });
  system.spawn(() => new Sink(), { name: "sink" });
  const { url } = await cluster.listen({ port: 0 });
  console.log(url);
  Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
} else {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(import.meta.url).pathname, "child", SECRET],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const url = (await firstLine(child)).trim();
  const system = new ActorSystem({ nodeId: "bench-main" });
  const cluster = new Cluster(system, { secret: SECRET, log: () => {} });
  const node = await cluster.dial(url);
  const counter = system.refFor({ node, path: "/user/counter" });
  const echo = system.refFor({ node, path: "/user/echo" });

  const tellRun = async (n: number) => {
    const t0 = performance.now();
    for (let sent = 0; sent < n;) {
      const chunk = Math.min(n - sent, 4096);
      for (let i = 0; i < chunk; i++) counter.tell(sent + i);
      sent += chunk;
      // Pace on the outbound queue rather than running into its bound.
      while (cluster.queued(node) > 50_000) {
        await new Promise((r) => setTimeout(r, 1));
      }
      await new Promise((r) => setImmediate(r));
    }
    await counter.ask("get", { timeoutMs: 60_000 });
    return performance.now() - t0;
  };

  console.error("cluster bench: warm-up");
  let expected = 100_000;
  await tellRun(100_000);
  for (let i = 0; i < 2000; i++) await echo.ask(i);
  // Best of ROUNDS: the machine is shared, and the best round is the one
  // least disturbed by other processes (the usual way to read a throughput
  // benchmark on a noisy host).
  let best = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const ms = await tellRun(TELLS);
    expected += TELLS;
    const rate = Math.round(TELLS / ms * 1000);
    console.error(
      `cluster bench: round ${round + 1}: ${TELLS} tells, ${rate}/s`,
    );
    best = Math.max(best, rate);
  }
  const got = await counter.ask<number>("get");
  if (got !== expected) {
    console.error(`cluster bench: counter saw ${got}, expected ${expected}`);
    Deno.exit(1);
  }
  console.log(`BENCH cluster.remote.tell_per_s ${best}`);

  console.error(`cluster bench: ${ASKS} asks`);
  const lat = new Float64Array(ASKS);
  for (let i = 0; i < ASKS; i++) {
    const t = performance.now();
    await echo.ask(i);
    lat[i] = performance.now() - t;
  }
  lat.sort();
  console.log(
    `BENCH cluster.remote.ask_p50_us ${Math.round(lat[ASKS >> 1] * 1000)}`,
  );

  console.error(`cluster bench: ${LARGE_COUNT} tells of 20 MiB`);
  const sink = system.refFor({ node, path: "/user/sink" });
  const payload = "x".repeat(LARGE);
  const t0 = performance.now();
  for (let i = 0; i < LARGE_COUNT; i++) sink.tell(payload);
  const during: number[] = [];
  const arrived = sink.ask<[number, number]>("get", { timeoutMs: 120_000 })
    .then((r) => {
      done = true;
      return r;
    });
  let done = false;
  while (!done) {
    const t = performance.now();
    await echo.ask(0);
    during.push(performance.now() - t);
  }
  const [n, chars] = await arrived;
  const secs = (performance.now() - t0) / 1000;
  if (n !== LARGE_COUNT || chars !== LARGE * LARGE_COUNT) {
    console.error(`cluster bench: sink saw ${n} tells, ${chars} chars`);
    Deno.exit(1);
  }
  console.log(
    `BENCH cluster.remote.large_mib_per_s ${
      Math.round(LARGE_COUNT * 20 / secs)
    }`,
  );
  during.sort((a, b) => a - b);
  console.log(
    `BENCH cluster.remote.ask_p50_us_during_large ${
      Math.round(during[during.length >> 1] * 1000)
    }`,
  );
  console.error(
    `cluster bench: ${during.length} small asks during the transfer, max ${
      Math.round(during[during.length - 1])
    } ms`,
  );

  child.kill("SIGTERM");
  await child.status;
  await cluster.close();
  await system.shutdown({ deadlineMs: 1000 });
  Deno.exit(0);
}
