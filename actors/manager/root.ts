/**
 * The manager's supervisor tree (`/user/manager`). Read it as a table:
 *
 * | child      | restarts when                    | why                                            |
 * |------------|----------------------------------|------------------------------------------------|
 * | scheduler  | it fails, or nothing before it   | its queues are rebuilt from the sessions below |
 * | agents     | it or the scheduler fails        | re-feeds the scheduler's capacity view         |
 * | sessions   | it, agents or the scheduler fail | re-announces pending and placed sessions       |
 * | autoscaler | any child before it fails        | re-reads group settings; its agents live on    |
 *
 * Strategy rest_for_one: a child's restart restarts the children started
 * after it, because each later child holds facts the earlier one is rebuilt
 * from (sessions re-enqueue PENDING work and re-announce placements on
 * start; the registry re-feeds agent capacity; the autoscaler's agents are
 * processes or instances, so restarting the actor loses only its counters).
 * A crash of one SessionActor
 * restarts only that session (sessions.ts, one_for_one). Keypair actors are
 * entities outside this tree: one crashing restarts alone on its next
 * message, from the store.
 *
 * Per subtree, concretely:
 * - **the scheduler crashes**: the scheduler, the agent registry, the
 *   sessions parent (so every SessionActor) and the autoscaler restart, in
 *   that order. The new scheduler starts empty; the registry re-joins every
 *   agent on its next heartbeat and feeds the capacity view; each restarted
 *   SessionActor re-announces its placement (`placed`) or re-enqueues its
 *   PENDING request, so the queue and the room taken come back from the
 *   store. Kernels and agents are untouched (tests/scheduling_test.ts
 *   crashes it through the debug hook).
 * - **the agent registry crashes**: the registry, sessions and autoscaler
 *   restart; the scheduler keeps its queue and gets a fresh capacity view.
 * - **one SessionActor crashes**: only it restarts, from its stored row.
 * - **the autoscaler crashes**: one group's actor restarts alone (its parent
 *   is one_for_one); the agents it started keep running and are re-adopted
 *   by id.
 * - **a keypair actor crashes**: only that keypair's entity restarts, on its
 *   next message, reloading policy and counters from the store; no session
 *   or scheduler state is touched.
 *
 * More than 10 restarts in a minute escalates: the manager stops rather than
 * flapping.
 *
 * @module
 */

import type { ActorRef } from "../runtime/types.ts";
import { Supervisor, type SupervisorSpec } from "../runtime/supervisor.ts";
import type { AgentMsg } from "../protocol/agent.ts";
import { AgentRegistryActor, type AgentsStorePort } from "./agents.ts";
import { SchedulerActor, type SchedulerOptions } from "./scheduler.ts";
import {
  type Admit,
  SessionsActor,
  type SessionsStorePort,
} from "./session/sessions.ts";
import type { CreateCatalog } from "./session/create.ts";
import { type AutoscalerDeps, AutoscalersActor } from "./autoscaler.ts";
import type { ManagerServices } from "./services.ts";

export interface RootDeps {
  services: ManagerServices;
  sessionsStore: SessionsStorePort;
  agentsStore: AgentsStorePort;
  scheduler: SchedulerOptions;
  admit: Admit;
  catalog: CreateCatalog;
  agentRef(id: string): ActorRef<AgentMsg>;
  autoscaler: AutoscalerDeps;
}

/** Paths of the tree's children, for refs that survive restarts. */
export const PATHS = {
  scheduler: "/user/manager/scheduler",
  agents: "/user/manager/agents",
  sessions: "/user/manager/sessions",
  autoscaler: "/user/manager/autoscaler",
  session: (id: string) => `/user/manager/sessions/${id}`,
} as const;

/** The manager's tree (`/user/manager`), the table this module's doc explains. */
export function managerTree(d: RootDeps): SupervisorSpec {
  return {
    strategy: "rest_for_one",
    maxRestarts: 10,
    withinMs: 60_000,
    children: [
      {
        id: "scheduler",
        start: () => new SchedulerActor(d.scheduler),
        restart: "permanent",
        shutdownMs: 5_000,
      },
      {
        id: "agents",
        start: () =>
          new AgentRegistryActor(
            d.agentsStore,
            d.services.scheduler,
            d.agentRef,
            // An agent stopped on purpose ends its sessions there at once.
            { sessionsPath: PATHS.sessions },
          ),
        restart: "permanent",
        shutdownMs: 5_000,
      },
      {
        id: "sessions",
        start: () =>
          new SessionsActor(d.services, d.sessionsStore, d.admit, d.catalog),
        restart: "permanent",
        // Every session actor below stops first (each persists as it goes).
        shutdownMs: 10_000,
      },
      {
        id: "autoscaler",
        start: () => new AutoscalersActor(d.autoscaler),
        restart: "permanent",
        shutdownMs: 5_000,
      },
    ],
  };
}

/** The manager's root supervisor, reading {@link managerTree}. */
export function managerRoot(d: RootDeps): Supervisor {
  return new Supervisor(managerTree(d));
}
