/**
 * Telemetry on a real cluster (manager and agent processes, real Docker):
 *
 * 1. Traces: both processes export with Deno's built-in OpenTelemetry
 *    (`OTEL_DENO=true`, OTLP `http/json`) to a receiver this test runs; a
 *    create and a query sent with a `traceparent` header each make one
 *    trace whose spans go HTTP → keypair → session → (cluster hop) →
 *    agent → kernel, with parent links across the process boundary, and
 *    the run sees its span in `TRACEPARENT`.
 * 2. Metrics: Debian's real `prometheus` scrapes the manager's and the
 *    agent's `/metrics`; its query API answers the session count after a
 *    create; `promtool check metrics` accepts both expositions; the API
 *    port's `/metrics` wants the bearer token.
 *
 * @module
 */

import { assert, assertEquals } from "./support/assert.ts";
import { startCluster, type TestCluster } from "./support/cluster.ts";
import { signedFetch } from "../routes/cli/sign.ts";
import { type ReceivedSpan, startOtlpReceiver } from "./support/otlp.ts";
import { eventually } from "./support/eventually.ts";
import { freePort } from "./support/ports.ts";

/** Waits (bounded) until `cond` holds. */
function until(
  cond: () => boolean | Promise<boolean>,
  opts: { timeoutMs: number; what: string },
): Promise<true> {
  return eventually(
    opts.what,
    async () => (await cond()) ? true : undefined,
    opts.timeoutMs,
  );
}

function traceparent(): { tp: string; traceId: string; spanId: string } {
  const hex = (n: number) =>
    Array.from(
      crypto.getRandomValues(new Uint8Array(n)),
      (b) => b.toString(16).padStart(2, "0"),
    ).join("");
  const traceId = hex(16);
  const spanId = hex(8);
  return { tp: `00-${traceId}-${spanId}-01`, traceId, spanId };
}

/** The first span of `trace` named `name`, or a failure listing what the trace has. */
function span(trace: ReceivedSpan[], name: string): ReceivedSpan {
  const s = trace.find((x) => x.name === name);
  if (!s) {
    throw new Error(
      `no span ${name} in the trace; it has: ${
        trace.map((x) => `${x.service}/${x.name}`).join(", ")
      }`,
    );
  }
  return s;
}

function childOf(child: ReceivedSpan, parent: ReceivedSpan): void {
  assertEquals(
    child.parentSpanId,
    parent.spanId,
    `${child.name} (${child.service}) should be a child of ${parent.name} (${parent.service})`,
  );
}

Deno.test({
  name:
    "traces: a create and a query, each one trace from HTTP to the kernel across processes (OTLP)",
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  const receiver = await startOtlpReceiver();
  let c: TestCluster | undefined;
  try {
    c = await startCluster({
      agents: 1,
      managerEnv: receiver.env("bai-manager"),
      agentEnv: receiver.env("bai-agent"),
    });
    const cl = c;
    const call = (method: string, path: string, body: unknown, tp: string) =>
      signedFetch(cl.endpoint, cl.admin, method, path, body, {
        headers: { traceparent: tp },
      });

    const create = traceparent();
    const created = await call("POST", "/session", {
      image: "python",
      name: "traced",
    }, create.tp);
    assertEquals(created.status, 201, await created.clone().text());
    const { sessionId } = await created.json();

    const query = traceparent();
    const ran = await call("POST", "/session/traced", {
      mode: "query",
      code: "import os\nprint(os.environ.get('TRACEPARENT'))",
      runId: null,
    }, query.tp);
    assertEquals(ran.status, 200);
    const result = (await ran.json()).result;
    assertEquals(result.status, "finished");

    const traceOf = (id: string) =>
      receiver.spans.filter((s) => s.traceId === id);
    // Spans are exported in batches (200 ms here): wait for the last ones.
    await until(() => {
      const names = new Set(traceOf(query.traceId).map((s) => s.name));
      const made = new Set(traceOf(create.traceId).map((s) => s.name));
      return names.has("kernel.exec") && names.has("session.execute") &&
        made.has("kernel.container.create") && made.has("POST /session");
    }, { timeoutMs: 20_000, what: "the spans of both traces" });

    // The create: HTTP → keypair → sessions → scheduler → session → agent → kernel.
    const t = traceOf(create.traceId);
    const http = span(t, "POST /session");
    assertEquals(http.service, "bai-manager");
    assertEquals(http.kind, 2); // server
    assertEquals(http.parentSpanId, create.spanId); // the caller's traceparent
    assertEquals(http.attributes["http.route"], "/session");
    assertEquals(http.attributes["http.response.status_code"], 201);
    const auth = span(t, "keypair.auth");
    childOf(auth, http);
    assert(
      String(auth.attributes["bai.access_key"]).length <= 9,
      "the access key is truncated",
    );
    childOf(span(t, "keypair.rate_limit"), http);
    const sessions = span(t, "sessions.create");
    childOf(sessions, http);
    assertEquals(sessions.attributes["bai.session.name"], "traced");
    const admit = span(t, "keypair.admit");
    childOf(admit, sessions);
    assertEquals(admit.attributes["bai.session.id"], sessionId);
    const place = span(t, "scheduler.place");
    childOf(place, sessions);
    const prepare = span(t, "session.prepare");
    childOf(prepare, place);
    const ask = t.find((s) =>
      s.name === "agent.kernel.create" && s.service === "bai-manager"
    )!;
    assertEquals(ask.kind, 3); // client
    childOf(ask, prepare);
    const agent = t.find((s) =>
      s.name === "agent.kernel.create" && s.service === "bai-agent"
    );
    assert(agent, "the agent's span is in the caller's trace");
    assertEquals(agent.kind, 2); // server
    childOf(agent, ask); // across the process boundary, from the envelope
    const container = span(t, "kernel.container.create");
    assertEquals(container.service, "bai-agent");
    childOf(container, agent);
    assertEquals(
      container.attributes["bai.image"],
      ask.attributes["bai.image"],
    );
    assertEquals(container.attributes["bai.session.id"], sessionId);

    // The query: HTTP → keypair → session → agent's kernel, with the run in TRACEPARENT.
    const q = traceOf(query.traceId);
    const qhttp = span(q, "POST /session/:ref");
    assertEquals(qhttp.attributes["http.route"], "/session/:ref");
    childOf(span(q, "keypair.auth"), qhttp);
    const exec = span(q, "session.execute");
    childOf(exec, qhttp);
    assertEquals(exec.attributes["bai.session.id"], sessionId);
    assertEquals(exec.attributes["bai.run.status"], "finished");
    const kernel = span(q, "kernel.exec");
    assertEquals(kernel.service, "bai-agent");
    childOf(kernel, exec);
    assertEquals(kernel.attributes["bai.run.exit_code"], 0);
    assert(
      typeof kernel.attributes["bai.runner.duration_ms"] === "number",
      "the runner's time is on the span",
    );
    // The kernel's environment named the run's own span.
    const printed = String(result.console[0]?.[1] ?? "").trim();
    assertEquals(printed, `00-${query.traceId}-${kernel.spanId}-01`);

    // An error is recorded on its span: a query to a session that does not exist.
    const missing = traceparent();
    const res = await call("POST", "/session/nope", {
      mode: "query",
      code: "1",
      runId: null,
    }, missing.tp);
    assertEquals(res.status, 404);
    await res.body?.cancel();
    await until(() => traceOf(missing.traceId).length > 0, {
      timeoutMs: 10_000,
      what: "the 404's span",
    });
    const failed = span(traceOf(missing.traceId), "POST /session/:ref");
    assertEquals(failed.attributes["error.type"], "object-not-found");
  } finally {
    await c?.stop();
    await receiver.close();
  }
});

async function hasCommand(cmd: string): Promise<boolean> {
  try {
    const o = await new Deno.Command(cmd, {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    }).output();
    return o.success;
  } catch {
    return false;
  }
}

/** `promtool check metrics` over `text`: its complaints ("" when none). */
async function promtool(text: string): Promise<string> {
  const p = new Deno.Command("promtool", {
    args: ["check", "metrics"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = p.stdin.getWriter();
  await w.write(new TextEncoder().encode(text));
  await w.close();
  const out = await p.output();
  const said = new TextDecoder().decode(out.stdout) +
    new TextDecoder().decode(out.stderr);
  return out.success ? said.trim() : `exit ${out.code}: ${said}`;
}

const havePrometheus = await hasCommand("prometheus") &&
  await hasCommand("promtool");
if (!havePrometheus) {
  console.log(
    "telemetry_test: skipping the Prometheus test: prometheus/promtool not installed (apt-get install prometheus)",
  );
}

Deno.test({
  name:
    "metrics: Debian's prometheus scrapes the manager and the agent; its query API counts the session",
  ignore: !havePrometheus,
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  const managerMetrics = freePort();
  const agentMetrics = freePort();
  const promPort = freePort();
  const token = "scrape-" + crypto.randomUUID();
  const c = await startCluster({
    agents: 1,
    managerEnv: { METRICS_PORT: String(managerMetrics), METRICS_TOKEN: token },
    agentArgs: () => ["--metrics-port", String(agentMetrics)],
  });
  const dir = await Deno.makeTempDir({ prefix: "bai-prom-" });
  let prom: Deno.ChildProcess | undefined;
  try {
    // Who may read: anonymous on the metrics port (loopback) ...
    const open = await fetch(`http://127.0.0.1:${managerMetrics}/metrics`);
    assertEquals(open.status, 200);
    assert(
      open.headers.get("content-type")?.startsWith("text/plain; version=0.0.4"),
    );
    await open.body?.cancel();
    // ... and on the API port only with the bearer token.
    const api = `${c.endpoint}/metrics`;
    assertEquals(
      (await fetch(api).then((r) => (r.body?.cancel(), r))).status,
      401,
    );
    const wrong = await fetch(api, {
      headers: { authorization: "Bearer nope" },
    });
    await wrong.body?.cancel();
    assertEquals(wrong.status, 401);
    const right = await fetch(api, {
      headers: { authorization: `Bearer ${token}` },
    });
    assertEquals(right.status, 200);
    assert((await right.text()).includes("bai_sessions{"));

    await Deno.writeTextFile(
      `${dir}/prometheus.yml`,
      [
        "global:",
        "  scrape_interval: 1s",
        "scrape_configs:",
        "  - job_name: bai-manager",
        "    static_configs:",
        `      - targets: ["127.0.0.1:${managerMetrics}"]`,
        "  - job_name: bai-agent",
        "    static_configs:",
        `      - targets: ["127.0.0.1:${agentMetrics}"]`,
        "",
      ].join("\n"),
    );
    prom = new Deno.Command("prometheus", {
      args: [
        `--config.file=${dir}/prometheus.yml`,
        `--storage.tsdb.path=${dir}/data`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ],
      stdout: "null",
      stderr: Deno.env.get("TEST_LOGS") === "1" ? "inherit" : "null",
    }).spawn();
    const promQuery = async (q: string) => {
      const r = await fetch(
        `http://127.0.0.1:${promPort}/api/v1/query?query=${
          encodeURIComponent(q)
        }`,
      );
      const body = await r.json();
      return body.data?.result as
        | { metric: Record<string, string>; value: [number, string] }[]
        | undefined;
    };
    const value = async (q: string) => (await promQuery(q))?.[0]?.value[1];

    // Before: no session runs.
    await until(
      async () => (await value('bai_sessions{status="RUNNING"}')) === "0",
      {
        timeoutMs: 30_000,
        what: "prometheus to scrape the manager",
      },
    );
    const created = await c.json<{ status: string }>("POST", "/session", {
      image: "python",
      name: "scraped",
    });
    assertEquals(created.status, "RUNNING");
    await c.json("POST", "/session/scraped", {
      mode: "query",
      code: "print(1)",
      runId: null,
    });
    await until(
      async () => (await value('bai_sessions{status="RUNNING"}')) === "1",
      {
        timeoutMs: 20_000,
        what: "the session count in prometheus",
      },
    );
    assertEquals(
      await value(`sum(bai_kernel_creations_total{result="created"})`),
      "1",
    );
    assertEquals(await value("bai_session_start_seconds_count"), "1");
    await until(async () => (await value("bai_agent_kernels")) === "1", {
      timeoutMs: 20_000,
      what: "the agent's own metrics",
    });
    const free = await promQuery('bai_agent_free_slots{slot="cpu"}');
    assertEquals(free?.length, 1);
    assertEquals(await value('up{job="bai-agent"}'), "1");
    assert(
      Number(await value('process_resident_memory_bytes{job="bai-manager"}')) >
        0,
    );

    // Both expositions pass promtool's checks.
    for (const port of [managerMetrics, agentMetrics]) {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`))
        .text();
      assertEquals(await promtool(text), "", `promtool on :${port}`);
    }
  } finally {
    try {
      prom?.kill("SIGTERM");
      await prom?.status;
    } catch { /* gone */ }
    await c.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => undefined);
  }
});
