/**
 * The manager's metrics, in the platform's words, on the process registry
 * (actors/telemetry): instruments the session code records into as things
 * happen ({@link managerMetrics}), and collectors that sample the rest at
 * each scrape — sessions by status (one grouped store query), pending
 * sessions per scaling group (the scheduler), agents with their capacity
 * and free slots (the agent registry, fed by heartbeats), and the runtime,
 * cluster links and process memory. Agents' own process metrics are served
 * by each agent (`--metrics-port`); the fleet's slots are relayed here.
 *
 * @module
 */

import type { ActorRef, ActorSystem } from "../runtime/mod.ts";
import {
  collectActorSystem,
  collectPeers,
  collectProcess,
  metrics,
  type PeerSource,
  type Registry,
} from "../telemetry/mod.ts";
import { SESSION_STATUSES } from "./lifecycle.ts";
import type { SchedulerMsg } from "./scheduler.ts";
import { PATHS } from "./root.ts";
import type { ManagerCore } from "./node.ts";

/** Seconds, for session starts: from a warm pool hit to a cold image start. */
const START_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
/** Seconds, for runs: a print to a long computation. */
const RUN_BUCKETS = [
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
  60,
  300,
];

/** What session code records as it happens. */
export const managerMetrics = {
  /** Create to RUNNING, seconds (queueing, placement, container start). */
  sessionStart: metrics.histogram("bai_session_start_seconds", {
    help: "From a session's creation to RUNNING.",
    buckets: START_BUCKETS,
  }),
  /** A run, from the exec sent to the kernel to its `done`, seconds. */
  execRoundTrip: metrics.histogram("bai_exec_roundtrip_seconds", {
    help:
      "A run from the manager sending it to the kernel's done, by mode and end status.",
    labels: ["mode", "status"],
    maxSeries: 20,
    buckets: RUN_BUCKETS,
  }),
  /** Kernel creations asked of agents, by result and (for failures) reason. */
  kernelCreations: metrics.counter("bai_kernel_creations_total", {
    help: "Kernel creations asked of agents, by result and failure reason.",
    labels: ["result", "reason"],
    maxSeries: 50,
  }),
};

/** The reason label of a failed creation: its problem type or error name (bounded by the registry). */
export function failureReason(err: unknown): string {
  const p = (err as { problemType?: unknown } | null)?.problemType;
  if (typeof p === "string") return p;
  return err instanceof Error ? err.name : "unknown";
}

/** What {@link collectManager} reads. */
export interface ManagerSources {
  system: ActorSystem;
  cluster: PeerSource;
  /** Session counts by status (a grouped store query). */
  sessionCounts(): Promise<Record<string, number>>;
  scheduler: ActorRef<SchedulerMsg>;
  /** The agent registry's view (`GET /x/admin/agents`). */
  listAgents(): Promise<Record<string, unknown>[]>;
}

type Slots = Record<string, number> | undefined;

/** Adds the manager's collectors to `registry`; returns the undo. */
export function collectManager(
  sources: ManagerSources,
  registry: Registry = metrics,
): () => void {
  const undo = [
    collectActorSystem(registry, sources.system),
    collectPeers(registry, sources.cluster),
    collectProcess(registry),
  ];
  const sessions = registry.gauge("bai_sessions", {
    help: "Sessions by status (ended ones included), from the store.",
    labels: ["status"],
    maxSeries: 32,
  });
  const pending = registry.gauge("bai_pending_sessions", {
    help: "Sessions waiting in the scheduler's queue, per scaling group.",
    labels: ["scaling_group"],
  });
  const agents = registry.gauge("bai_agents", {
    help: "Agents known to the registry, by status.",
    labels: ["status"],
    maxSeries: 16,
  });
  const capacity = registry.gauge("bai_agent_capacity_slots", {
    help: "Slots each agent offers (cpu count, mem bytes, devices).",
    labels: ["agent", "scaling_group", "slot"],
    maxSeries: 5000,
  });
  const free = registry.gauge("bai_agent_free_slots", {
    help: "Slots free on each agent, as its last heartbeat reported.",
    labels: ["agent", "scaling_group", "slot"],
    maxSeries: 5000,
  });
  undo.push(registry.collect(async () => {
    const counts = await sources.sessionCounts();
    sessions.reset();
    for (const s of SESSION_STATUSES) sessions.set({ status: s }, 0);
    for (const [status, n] of Object.entries(counts)) {
      sessions.set({ status }, n);
    }
  }));
  undo.push(registry.collect(async () => {
    const list = await sources.scheduler.ask<{ scalingGroup: string }[]>(
      { type: "pending" },
      { timeoutMs: 1500 },
    );
    pending.reset();
    for (const p of list) pending.inc({ scaling_group: p.scalingGroup });
  }));
  undo.push(registry.collect(async () => {
    const list = await sources.listAgents();
    agents.reset();
    capacity.reset();
    free.reset();
    for (const a of list) {
      agents.inc({ status: String(a.status) });
      if (a.status !== "ALIVE") continue;
      const who = {
        agent: String(a.id),
        scaling_group: String(a.scalingGroup),
      };
      for (const [slot, v] of Object.entries(a.resourceSlots as Slots ?? {})) {
        capacity.set({ ...who, slot }, v);
      }
      for (const [slot, v] of Object.entries(a.availableSlots as Slots ?? {})) {
        free.set({ ...who, slot }, v);
      }
    }
  }));
  return () => undo.forEach((f) => f());
}

/** {@link collectManager} over a started manager core. */
export function collectManagerCore(
  core: Pick<ManagerCore, "system" | "cluster" | "store" | "deps">,
  registry: Registry = metrics,
): () => void {
  return collectManager({
    system: core.system,
    cluster: core.cluster,
    async sessionCounts() {
      const rows = await core.store
        .sql`select status, count(*)::int as n from sessions group by status`;
      return Object.fromEntries(
        rows.map((r) => [String(r.status), Number(r.n)]),
      );
    },
    scheduler: core.system.refFor<SchedulerMsg>({
      node: core.system.nodeId,
      path: PATHS.scheduler,
    }),
    listAgents: () => core.deps.admin.listAgents(),
  }, registry);
}
