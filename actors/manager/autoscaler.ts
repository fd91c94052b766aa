/**
 * The autoscaler (`/user/manager/autoscaler`): one GroupAutoscalerActor per
 * scaling group whose settings enable it (autoscaler_config.ts), under a
 * one_for_one parent. On every tick a group's actor reads the agents (the
 * registry), the live sessions (the store) and the pending queue (the
 * scheduler), lets policies/scale_out.ts and scale_in.ts decide, and acts
 * through an {@link AgentDriver}:
 *
 * - scale out: undrain its own drained agents first, then start agents for
 *   pending demand, the free-capacity target and the minimum, up to the
 *   maximum; when `maxAgents` is what keeps sessions waiting, the pending
 *   queue says so (the scheduler's `scaling-note`);
 * - scale in (only with nothing pending and nothing booting): only real
 *   surplus goes, idle agents first; a busy one is drained and stopped once
 *   empty, or after the group's `drainTimeoutSeconds` (counted from the
 *   later of the drain's start and the setting's) if none of its sessions
 *   is protected. An agent hosting a protected session (its
 *   `config.scale_in_protected`, or the group's rules: batch sessions,
 *   sessions older than N minutes; see policies/protection.ts) is drained
 *   but never stopped by scale-in;
 * - an agent that stops answering (registry: LOST) is stopped by force,
 *   and so is one an admin stops (`force-stop`), protected or not.
 *
 * Every stop is announced to the registry first (`retire`, with the reason):
 * the agent then shows TERMINATED with that reason, and a forced stop ends
 * its sessions at once in ERROR with it instead of leaving them to wait for
 * a kernel that will not return. Each tick's decision per agent goes to the
 * registry too (`scale-in.notes`, shown by `GET /x/admin/agents/{id}`).
 *
 * Only agents the driver started are acted on; others count as capacity
 * with node-level protection.
 *
 * @module
 */

import {
  Actor,
  type ActorRef,
  type SupervisorStrategy,
} from "../runtime/types.ts";
import type { ScaleInDecision } from "../../policies/scale_in.ts";
import type { ScaleOutDecision } from "../../policies/scale_out.ts";
import type { AgentDriver } from "./autoscaler_driver.ts";
import { NotManagedError } from "./autoscaler_driver.ts";
import { AutoscalerConfig } from "./autoscaler_config.ts";
import type { AgentsMsg } from "./agents.ts";
import type { SchedulerMsg } from "./scheduler.ts";
import type { RegistryAgentView, ScalingSession } from "./autoscaler_view.ts";
import { GroupAutoscalerActor } from "./autoscaler_group.ts";

export type { RegistryAgentView, ScalingSession } from "./autoscaler_view.ts";
export { GroupAutoscalerActor } from "./autoscaler_group.ts";

/** What the autoscaler reads and acts through. */
export interface AutoscalerDeps {
  driver: AgentDriver;
  registry: ActorRef<AgentsMsg>;
  scheduler: ActorRef<SchedulerMsg>;
  liveSessions(): Promise<ScalingSession[]>;
  /** Settings of every group, read at (re)start. */
  loadConfigs(): Promise<Record<string, unknown>>;
  /** Decisions go here. @default console.error */
  log?: (line: string) => void;
  /**
   * `idPrefix` of groups whose settings leave it unset (autoscaler_config.ts
   * `defaultIdPrefix`). @default {"auto"}
   */
  defaultIdPrefix?: string;
}

export type AutoscalerMsg =
  | { type: "configure"; group: string; config: AutoscalerConfig }
  | { type: "force-stop"; agentId: string }
  | { type: "status"; group: string };

/** What a group's autoscaler (autoscaler_group.ts) receives. */
export type GroupMsg =
  | { type: "configure"; config: AutoscalerConfig }
  | { type: "tick" }
  | { type: "force-stop"; agentId: string }
  | { type: "status" };

/** What a group's autoscaler reports (admin API). */
export interface AutoscalerStatus {
  group: string;
  config: AutoscalerConfig;
  /** The prefix of the agents it starts (`${idPrefix}-${group}-${n}`). */
  idPrefix: string;
  managed: string[];
  starting: string[];
  stopping: string[];
  last?: {
    at: string;
    add: number;
    undrain: ScaleOutDecision["undrain"];
    drain: ScaleInDecision["drain"];
    stop: ScaleInDecision["stop"];
  };
  /** Why pending sessions wait, when the group's limits are the cause. */
  pendingDetail?: string;
}

/** Parent of the per-group autoscalers. */
export class AutoscalersActor extends Actor<AutoscalerMsg> {
  constructor(readonly deps: AutoscalerDeps) {
    super();
  }

  override supervisorStrategy(): SupervisorStrategy {
    return {
      kind: "one_for_one",
      maxRestarts: 10,
      withinMs: 60_000,
      decide: () => "restart",
    };
  }

  override async preStart(): Promise<void> {
    for (const [group, raw] of Object.entries(await this.deps.loadConfigs())) {
      const parsed = AutoscalerConfig.safeParse(raw ?? {});
      if (parsed.success && parsed.data.enabled) {
        this.#group(group, parsed.data);
      }
    }
  }

  async receive(msg: AutoscalerMsg): Promise<unknown> {
    switch (msg.type) {
      case "configure": {
        const child = this.ctx.child(childName(msg.group));
        if (child) child.tell({ type: "configure", config: msg.config });
        else if (msg.config.enabled) this.#group(msg.group, msg.config);
        return;
      }
      case "status": {
        const child = this.ctx.child(childName(msg.group));
        return child ? await child.ask({ type: "status" }) : undefined;
      }
      case "force-stop": {
        const a = await this.deps.registry.ask<RegistryAgentView | undefined>(
          { type: "get", id: msg.agentId },
        );
        const child = a && this.ctx.child(childName(a.scalingGroup));
        if (!child || !this.deps.driver.owns(msg.agentId)) {
          throw new NotManagedError(
            `agent ${msg.agentId} was not started by the autoscaler`,
          );
        }
        return await child.ask({ type: "force-stop", agentId: msg.agentId }, {
          timeoutMs: 30_000,
        });
      }
    }
  }

  #group(group: string, config: AutoscalerConfig): void {
    this.ctx.spawn(() => new GroupAutoscalerActor(group, config, this.deps), {
      name: childName(group),
    });
  }
}

const childName = (group: string) => `group-${group}`;
