/**
 * A session actor's spans and measurements (one call each in actor.ts,
 * runs.ts, kernel_request.ts): `session.prepare` (placed → kernel asked
 * for), `session.execute` (a long-poll of a run), `agent.kernel.create`
 * (the ask to the agent, a client span the agent's own continues), the
 * start latency and the kernel creation counts. Straight through when
 * tracing is off.
 *
 * @module
 */

import type { ExecuteResult } from "../port/mod.ts";
import type { SessionRow } from "../services.ts";
import { inTrace, sessionAttrs, TRACING } from "../spans.ts";
import { failureReason, managerMetrics } from "../telemetry.ts";
import { startSpan, withSpan } from "../../telemetry/mod.ts";
import type { ExecuteInput } from "./runs.ts";

export { inTrace };

/** The session's preparation once placed (`scheduled`): transitions and the kernel request. */
export function prepareSpan<T>(
  row: SessionRow,
  fn: () => Promise<T>,
): Promise<T> {
  if (!TRACING) return fn();
  return withSpan("session.prepare", sessionAttrs(row), fn);
}

/** A long-poll of a run in a span, with the status and exit code it answered. */
export function tracedExecute(
  row: SessionRow,
  msg: ExecuteInput,
  runs: { execute(msg: ExecuteInput): Promise<ExecuteResult> },
): Promise<ExecuteResult> {
  if (!TRACING) return runs.execute(msg);
  return withSpan("session.execute", {
    ...sessionAttrs(row),
    "bai.run.id": msg.runId,
    "bai.exec.mode": msg.mode,
  }, async (span) => {
    const r = await runs.execute(msg);
    span.set({
      "bai.run.status": r.status,
      "bai.run.exit_code": r.exitCode ?? undefined,
    });
    return r;
  });
}

/** Records the start latency of a session that just became RUNNING from `from`. */
export function startedRunning(from: string, row: SessionRow): void {
  if (from !== "PREPARING") return; // a restart or a resume is not a start
  managerMetrics.sessionStart.observe(
    undefined,
    (Date.now() - row.createdAt) / 1000,
  );
}

/** A run's end seen by the manager: its round trip from the exec sent. */
export function runEnded(
  mode: string,
  status: string,
  startedAt: number,
): void {
  managerMetrics.execRoundTrip.observe(
    { mode, status },
    (performance.now() - startedAt) / 1000,
  );
}

/**
 * The ask for a kernel to `agentId`, as a client span the agent's span
 * continues (the cluster carries the active span in the envelope), and
 * counted by result.
 */
export function kernelCreateCall<T>(
  row: SessionRow,
  agentId: string,
  kernelId: string,
  ask: () => Promise<T>,
): Promise<T> {
  const span = TRACING
    ? startSpan("agent.kernel.create", {
      ...sessionAttrs(row),
      "bai.agent.id": agentId,
      "bai.kernel.id": kernelId,
    }, { kind: "client" })
    : undefined;
  const p = span ? span.run(ask) : ask();
  return p.then((v) => {
    span?.end();
    managerMetrics.kernelCreations.inc({ result: "created", reason: "" });
    return v;
  }, (err) => {
    span?.error(err);
    span?.end();
    managerMetrics.kernelCreations.inc({
      result: "failed",
      reason: failureReason(err),
    });
    throw err;
  });
}
