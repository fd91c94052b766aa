/**
 * An agent node's spans and metrics (one call each in agent_actor.ts and
 * kernel_actor.ts). Spans: `agent.kernel.create` (the manager's ask,
 * continued from the envelope's trace), `kernel.container.create` (the
 * host making or taking the container), `kernel.exec` (a run, from the exec
 * to the runner's `done`, with the runner's time, status and exit code).
 * Each run gets its span's `traceparent` in `opts.traceparent`, which the
 * runner puts in the run's environment as `TRACEPARENT` (images/runner).
 *
 * Metrics (served by the agent itself, `--metrics-port`): container
 * creations and their latency, runs by mode and status with the runner's
 * time, kernels held.
 *
 * @module
 */

import type { ActorSystem } from "../runtime/mod.ts";
import {
  collectActorSystem,
  collectPeers,
  collectProcess,
  metrics,
  type MetricsServer,
  type PeerSource,
  serveMetrics,
  startSpan,
  TRACING,
  withSpan,
} from "../telemetry/mod.ts";

const containerCreate = metrics.histogram(
  "bai_agent_container_create_seconds",
  {
    help:
      "Making (or taking from the warm pool) a kernel's container, by result.",
    labels: ["result"],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120],
  },
);
const runs = metrics.histogram("bai_agent_run_seconds", {
  help: "Runs in kernels, from the exec sent to the runner to its done.",
  labels: ["mode", "status"],
  maxSeries: 20,
  buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60, 300],
});

const kernelsHeld = metrics.gauge("bai_agent_kernels", {
  help: "Kernels this agent holds.",
});

/**
 * Samples the agent node (runtime, links, memory, kernels held) into the
 * process registry and, with a port, serves it at `GET /metrics` on
 * `hostname` (loopback by default, anonymous).
 */
export async function agentMetrics(
  node: {
    system: ActorSystem;
    cluster: PeerSource;
    kernelCount: () => number;
  },
  listen?: { port: number; hostname?: string },
): Promise<MetricsServer | undefined> {
  collectActorSystem(metrics, node.system);
  collectPeers(metrics, node.cluster);
  collectProcess(metrics);
  metrics.collect(() => kernelsHeld.set(undefined, node.kernelCount()));
  if (listen === undefined) return undefined;
  const server = await serveMetrics(metrics, listen);
  console.error(
    `agent: metrics on http://${server.hostname}:${server.port}/metrics`,
  );
  return server;
}

/** What a kernel.create carries that names it. */
interface CreateMsg {
  sessionId: string;
  kernelId: string;
  image: string;
}

function createAttrs(msg: CreateMsg, agentId: string) {
  return {
    "bai.session.id": msg.sessionId,
    "bai.kernel.id": msg.kernelId,
    "bai.image": msg.image,
    "bai.agent.id": agentId,
  };
}

/** The agent's handling of a kernel.create, as the server side of the manager's ask. */
export function createSpan<T>(
  msg: CreateMsg,
  agentId: string,
  fn: () => Promise<T>,
): Promise<T> {
  if (!TRACING) return fn();
  return withSpan("agent.kernel.create", createAttrs(msg, agentId), fn, {
    kind: "server",
  });
}

/** The host making the container, timed and (tracing on) in a span. */
export function containerSpan<T extends { containerId: string }>(
  msg: CreateMsg,
  agentId: string,
  launch: () => Promise<T>,
): Promise<T> {
  const t0 = performance.now();
  const timed = () =>
    launch().then((k) => {
      containerCreate.observe(
        { result: "ok" },
        (performance.now() - t0) / 1000,
      );
      return k;
    }, (err) => {
      containerCreate.observe(
        { result: "failed" },
        (performance.now() - t0) / 1000,
      );
      throw err;
    });
  if (!TRACING) return timed();
  return withSpan(
    "kernel.container.create",
    createAttrs(msg, agentId),
    async (span) => {
      const k = await timed();
      span.set({ "bai.container.id": k.containerId.slice(0, 12) });
      return k;
    },
  );
}

/** A run in progress: its span, and what ends it. */
export interface RunTrace {
  /** The `traceparent` for the run's environment (`TRACEPARENT`). */
  readonly traceparent: string | undefined;
  /** The runner's `done` (or the run's failure). */
  done(status: string, exitCode: number | undefined, error?: unknown): void;
}

/**
 * Starts a run's span (child of the session's exec in the envelope's
 * trace); `inbound` is the message's own `traceparent`, passed to the
 * kernel when tracing is off.
 */
export function runTrace(
  kernelId: string,
  run: { runId: string; mode: string },
  inbound: string | undefined,
): RunTrace {
  const t0 = performance.now();
  const span = TRACING
    ? startSpan("kernel.exec", {
      "bai.kernel.id": kernelId,
      "bai.run.id": run.runId,
      "bai.exec.mode": run.mode,
    })
    : undefined;
  let ended = false;
  return {
    traceparent: span?.traceparent ?? inbound,
    done(status, exitCode, error) {
      if (ended) return;
      ended = true;
      const ms = performance.now() - t0;
      runs.observe({ mode: run.mode, status }, ms / 1000);
      if (span === undefined) return;
      if (error !== undefined) span.error(error);
      span.end({
        "bai.run.status": status,
        "bai.run.exit_code": exitCode,
        "bai.runner.duration_ms": Math.round(ms * 1000) / 1000,
      });
    },
  };
}
