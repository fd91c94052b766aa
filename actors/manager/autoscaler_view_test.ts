import { assertEquals } from "../runtime/_test_util.ts";
import { decideScaleIn } from "../../policies/scale_in.ts";
import { AutoscalerConfig, stampDrainTimeout } from "./autoscaler_config.ts";
import { type RegistryAgentView, scalableAgents } from "./autoscaler_view.ts";

const NOW = Date.parse("2026-12-01T12:00:00Z");
const iso = (ms: number) => new Date(ms).toISOString();

const view = (
  id: string,
  patch: Partial<RegistryAgentView> = {},
): RegistryAgentView => ({
  id,
  scalingGroup: "g",
  status: "ALIVE",
  schedulable: true,
  drain: null,
  resourceSlots: { cpu: 2 },
  numKernels: 1,
  lastSeen: iso(NOW),
  ...patch,
});

const session = (agentId: string) => ({
  agentId,
  scalingGroup: "g",
  status: "RUNNING",
  type: "interactive",
  createdAt: NOW - 60_000,
  protected: false,
  requestedSlots: { cpu: 1 },
});

function agentsFor(views: RegistryAgentView[], config: AutoscalerConfig) {
  return scalableAgents({
    group: "g",
    views,
    sessions: views.map((v) => session(v.id)),
    config,
    now: NOW,
    owns: (id) => id !== "static",
    skip: () => false,
  });
}

Deno.test("autoscaler view: a drain deadline counts from the later of the drain and the timeout's setting", () => {
  const drainedAt = NOW - 3_600_000; // draining for an hour
  const drained = view("a", {
    schedulable: false,
    drain: { by: "scale-in", reason: "surplus", since: iso(drainedAt) },
  });
  // The timeout was lowered to 60 s just now: the agent gets 60 s from now,
  // not an instant stop for having drained an hour.
  const setNow = stampDrainTimeout(
    AutoscalerConfig.parse({ drainTimeoutSeconds: 3600 }),
    AutoscalerConfig.parse({ drainTimeoutSeconds: 60 }),
    NOW - 1_000,
  );
  const [a] = agentsFor([drained], setNow);
  assertEquals(a.drainingSince, NOW - 1_000);
  const d = decideScaleIn([a], { drainDeadlineMs: 60_000, now: NOW });
  assertEquals(d.stop, []);
  assertEquals(d.kept.map((k) => k.reason), ["draining"]);
  // Set long before the drain began: the drain's own start counts.
  const setLongAgo = AutoscalerConfig.parse({
    drainTimeoutSeconds: 60,
    drainTimeoutSetAt: iso(NOW - 7_200_000),
  });
  const [b] = agentsFor([drained], setLongAgo);
  assertEquals(b.drainingSince, drainedAt);
  const e = decideScaleIn([b], { drainDeadlineMs: 60_000, now: NOW });
  assertEquals(e.stop.map((s) => s.reason), ["drain-deadline"]);
});

Deno.test("autoscaler view: only scale-in's own drains may be undone; left and foreign agents are not counted", () => {
  const config = AutoscalerConfig.parse({});
  const since = iso(NOW - 1_000);
  const agents = agentsFor([
    view("ours", {
      schedulable: false,
      drain: { by: "scale-in", reason: "surplus", since },
    }),
    view("cordon", {
      schedulable: false,
      drain: { by: "admin", reason: "maintenance", since },
    }),
    view("sigterm", {
      schedulable: false,
      drain: { by: "agent", reason: "SIGTERM", since },
    }),
    view("lost", { status: "LOST", schedulable: false }),
    view("left", { status: "TERMINATED", schedulable: false }),
    view("static", { status: "LOST" }),
  ], config);
  assertEquals(
    agents.map((a) => [a.id, a.draining, a.cordoned, a.healthy]),
    [
      ["ours", true, false, true],
      ["cordon", true, true, true],
      ["sigterm", true, true, true],
      ["lost", false, false, false],
    ],
  );
});
