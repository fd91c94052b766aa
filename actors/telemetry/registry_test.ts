import { Registry } from "./registry.ts";
import { OVERFLOW } from "./instruments.ts";
import { strictEqual as assertEquals } from "node:assert";

Deno.test("registry: the Prometheus text format of counters, gauges and histograms", async () => {
  const r = new Registry();
  const c = r.counter("jobs_total", {
    help: "Jobs run.\nBy result.",
    labels: ["result"],
  });
  c.inc({ result: "ok" });
  c.inc({ result: "ok" }, 2);
  c.inc({ result: 'say "no"\\' });
  c.inc({ result: "ok" }, -5); // ignored: counters never go down
  const g = r.gauge("queue_depth", { help: "Waiting." });
  g.set(undefined, 1.5);
  const h = r.histogram("latency_seconds", {
    help: "Latency.",
    labels: ["mode"],
    buckets: [0.1, 1],
  });
  h.observe({ mode: "query" }, 0.05);
  h.observe({ mode: "query" }, 0.5);
  h.observe({ mode: "query" }, 7);
  r.gauge("idle_total_unused", { help: "Never set." });
  const text = await r.render();
  const expected = [
    "# HELP jobs_total Jobs run.\\nBy result.",
    "# TYPE jobs_total counter",
    'jobs_total{result="ok"} 3',
    'jobs_total{result="say \\"no\\"\\\\"} 1',
    "# HELP queue_depth Waiting.",
    "# TYPE queue_depth gauge",
    "queue_depth 1.5",
    "# HELP latency_seconds Latency.",
    "# TYPE latency_seconds histogram",
    'latency_seconds_bucket{mode="query",le="0.1"} 1',
    'latency_seconds_bucket{mode="query",le="1"} 2',
    'latency_seconds_bucket{mode="query",le="+Inf"} 3',
    'latency_seconds_sum{mode="query"} 7.55',
    'latency_seconds_count{mode="query"} 3',
    "# HELP idle_total_unused Never set.",
    "# TYPE idle_total_unused gauge",
    "idle_total_unused 0",
  ];
  for (const line of expected) {
    assertEquals(text.includes(line + "\n"), true, `missing: ${line}`);
  }
});

Deno.test("registry: label sets past the bound share one overflow series", () => {
  const r = new Registry();
  const c = r.counter("problems_total", {
    help: "p",
    labels: ["type", "kind"],
    maxSeries: 3,
  });
  for (let i = 0; i < 1000; i++) c.inc({ type: `t${i}`, kind: "x" });
  const series = [...c.all()];
  assertEquals(series.length, 4); // three kept, plus the overflow one
  assertEquals(c.value({ type: OVERFLOW, kind: OVERFLOW }), 997);
  assertEquals(c.value({ type: "t0", kind: "x" }), 1);
  assertEquals(c.overflowed, 997);
  // A set seen before the bound still counts on its own.
  c.inc({ type: "t1", kind: "x" });
  assertEquals(c.value({ type: "t1", kind: "x" }), 2);
});

Deno.test("registry: the same name answers the same instrument; another type is refused", () => {
  const r = new Registry();
  const a = r.counter("x_total", { help: "x" });
  assertEquals(r.counter("x_total", { help: "x" }), a);
  let refused = false;
  try {
    r.gauge("x_total", { help: "x" });
  } catch {
    refused = true;
  }
  assertEquals(refused, true);
  let bad = false;
  try {
    r.histogram("h", { help: "h", labels: ["le"] });
  } catch {
    bad = true;
  }
  assertEquals(bad, true);
});

Deno.test("registry: a failing or hanging collector does not fail the scrape", async () => {
  const r = new Registry({ collectTimeoutMs: 50 });
  const g = r.gauge("sampled", { help: "s" });
  r.collect(() => g.set(undefined, 7));
  r.collect(() => {
    throw new Error("store away");
  });
  r.collect(() => new Promise(() => {})); // never settles
  const text = await r.render();
  assertEquals(text.includes("sampled 7\n"), true);
  assertEquals(text.includes("telemetry_collect_failures_total 2\n"), true);
});

Deno.test("registry: promtool check metrics accepts the exposition", async () => {
  const r = new Registry();
  r.counter("requests_total", { help: "Requests.", labels: ["code"] }).inc({
    code: "200",
  });
  r.histogram("request_duration_seconds", { help: "Durations." }).observe(
    undefined,
    0.2,
  );
  r.gauge("memory_bytes", { help: "Memory." }).set(undefined, 1024);
  const text = await r.render();
  let proc: Deno.ChildProcess;
  try {
    proc = new Deno.Command("promtool", {
      args: ["check", "metrics"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch {
    console.log(
      "skipped: promtool is not installed (apt-get install prometheus)",
    );
    return;
  }
  const w = proc.stdin.getWriter();
  await w.write(new TextEncoder().encode(text));
  await w.close();
  const out = await proc.output();
  const said = new TextDecoder().decode(out.stdout) +
    new TextDecoder().decode(out.stderr);
  assertEquals(out.code, 0, said);
  assertEquals(said.trim(), "");
});
