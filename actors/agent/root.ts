/**
 * The agent node's supervisor tree (`/user/node`), as a table: the
 * AgentActor, which supervises one KernelActor per kernel
 * (`/user/node/agent/KERNEL_ID`, AGENT_PATHS in actors/protocol).
 *
 * | child | restart   | shutdown | why                                              |
 * |-------|-----------|----------|--------------------------------------------------|
 * | agent | permanent | 30 s     | re-adopts its containers from Docker on restart  |
 *
 * A crashing AgentActor restarts from the Docker engine's view of its
 * containers (kernels keep running; their sessions see the kernel back);
 * more than 5 restarts in a minute escalates and the node stops rather
 * than flapping. A KernelActor crashing restarts alone (agent_actor.ts).
 *
 * @module
 */

import type { SupervisorSpec } from "../runtime/supervisor.ts";
import type { Actor } from "../runtime/types.ts";

/** The tree of an agent node whose AgentActor `start` makes. */
export function agentTree(start: () => Actor<unknown>): SupervisorSpec {
  return {
    strategy: "one_for_one",
    maxRestarts: 5,
    withinMs: 60_000,
    children: [
      // Kernels stop first; each KernelActor detaches from its container.
      { id: "agent", start, restart: "permanent", shutdownMs: 30_000 },
    ],
  };
}
