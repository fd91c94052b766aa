/**
 * Our admin API (`/x/admin/...`) over the store and the actors: keypairs,
 * resource policies, scaling groups, agents, sessions across keypairs,
 * images. Secrets leave the manager only once, in createKeypair's answer.
 *
 * @module
 */

import type { ActorRef, Entities } from "../runtime/types.ts";
import type { AdminDeps } from "./port/mod.ts";
import { listImages } from "../../images/build.ts";
import { DomainError } from "./errors.ts";
import type {
  Json,
  Keypair,
  SchedulerName,
  SessionStatus,
  Store,
} from "./store/mod.ts";
import type { KeypairMsg } from "./keypair.ts";
import type { AgentsMsg } from "./agents.ts";
import type { PendingView, SchedulerMsg } from "./scheduler.ts";
import type { AutoscalerMsg } from "./autoscaler.ts";
import { AutoscalerConfig, readAutoscalerConfig } from "./autoscaler_config.ts";
import { NotManagedError } from "./autoscaler_driver.ts";
import { PATHS } from "./root.ts";
import { MANAGER_NODE } from "./node.ts";

export interface AdminWiring {
  store: Store;
  system: { refFor<M>(a: { node: string; path: string }): ActorRef<M> };
  keypairs: Entities<KeypairMsg>;
  /** Scheduler kind per scaling group, shared with the scheduler. */
  groups: Map<string, SchedulerName>;
  /** Mount the supervision test hook (`BAI_DEBUG_HOOKS=1`). @default {false} */
  debugHooks?: boolean;
}

const view = (k: Keypair) => ({
  accessKey: k.accessKey,
  userId: k.userId,
  isActive: k.isActive,
  isAdmin: k.isAdmin,
  rateLimit: k.rateLimit,
  resourcePolicy: k.resourcePolicy,
  createdAt: k.createdAt.toISOString(),
});

export function createAdminDeps(
  w: AdminWiring,
): AdminDeps {
  const agents = () =>
    w.system.refFor<AgentsMsg>({ node: MANAGER_NODE, path: PATHS.agents });
  const scheduler = () =>
    w.system.refFor<SchedulerMsg>({
      node: MANAGER_NODE,
      path: PATHS.scheduler,
    });
  const autoscaler = () =>
    w.system.refFor<AutoscalerMsg>({
      node: MANAGER_NODE,
      path: PATHS.autoscaler,
    });
  const group = async (name: string) => {
    const g = await w.store.scalingGroups.get(name);
    if (!g) throw new DomainError("object-not-found", "No such scaling group.");
    return g;
  };
  const reload = (ak: string) => w.keypairs.ref(ak).tell({ type: "reload" });
  return {
    async createKeypair(req) {
      if (!(await w.store.policies.get(req.resourcePolicy))) {
        throw new DomainError(
          "invalid-api-params",
          `No such resource policy: ${req.resourcePolicy}`,
        );
      }
      const kp = await w.store.keypairs.create({
        userId: req.userId ?? "user",
        isAdmin: req.isAdmin,
        rateLimit: req.rateLimit,
        resourcePolicy: req.resourcePolicy,
      });
      return { accessKey: kp.accessKey, secretKey: kp.secretKey };
    },
    async listKeypairs() {
      return (await w.store.keypairs.list()).map(view);
    },
    async deactivateKeypair(ak) {
      await w.store.keypairs.setActive(ak, false);
      reload(ak);
    },
    async deleteKeypair(ak) {
      if (!(await w.store.keypairs.delete(ak))) {
        throw new DomainError("object-not-found", "No such keypair.");
      }
      reload(ak);
    },
    async listResourcePolicies() {
      return (await w.store.policies.list()) as unknown as Record<
        string,
        unknown
      >[];
    },
    async putResourcePolicy(name, policy) {
      return (await w.store.policies.upsert({
        ...policy,
        name,
      })) as unknown as Record<string, unknown>;
    },
    deleteResourcePolicy(_name) {
      return Promise.reject(
        new DomainError(
          "generic-bad-request",
          "Resource policies cannot be deleted yet.",
        ),
      );
    },
    async listScalingGroups() {
      return (await w.store.scalingGroups.list()) as unknown as Record<
        string,
        unknown
      >[];
    },
    async putScalingGroup(name, group) {
      const g = await w.store.scalingGroups.upsert(
        { ...group, name } as { name: string; scheduler?: SchedulerName },
      );
      w.groups.set(g.name, g.scheduler);
      return g as unknown as Record<string, unknown>;
    },
    async listAgents() {
      return await agents().ask<Record<string, unknown>[]>({ type: "list" });
    },
    async getAgent(id) {
      const a = await agents().ask<Record<string, unknown> | undefined>({
        type: "get",
        id,
      });
      if (!a) throw new DomainError("object-not-found", "No such agent.");
      return a;
    },
    async listSessions(filter) {
      const { items, total } = await w.store.sessions.list({
        filters: {
          accessKey: filter.accessKey,
          status: filter.status as SessionStatus[] | undefined,
        },
        limit: filter.limit,
        offset: filter.offset,
      });
      return {
        sessions: items.map((s) => ({
          ...s,
          createdAt: s.createdAt.toISOString(),
          terminatedAt: s.terminatedAt?.toISOString() ?? null,
          lastActivity: s.lastActivity.toISOString(),
        })) as unknown as Record<string, Json>[],
        total,
      };
    },
    async listImages() {
      return (await listImages()) as unknown as Record<string, unknown>[];
    },
    async setAgentDraining(id, draining) {
      const ok = await agents().ask<boolean>({ type: "drain", id, draining });
      if (!ok) throw new DomainError("object-not-found", "No such agent.");
      return await agents().ask<Record<string, unknown>>({ type: "get", id });
    },
    async stopAgent(id) {
      try {
        await autoscaler().ask({ type: "force-stop", agentId: id }, {
          timeoutMs: 30_000,
        });
      } catch (e) {
        if (e instanceof NotManagedError || isNamed(e, "NotManagedError")) {
          throw new DomainError(
            "generic-bad-request",
            `Agent ${id} was not started by the autoscaler; stop it where it runs.`,
          );
        }
        throw e;
      }
    },
    async pendingSessions(scalingGroup) {
      const all = await scheduler().ask<PendingView[]>({ type: "pending" });
      return (scalingGroup
        ? all.filter((p) => p.scalingGroup === scalingGroup)
        : all) as unknown as Record<string, unknown>[];
    },
    async setScheduler(name, kind) {
      await group(name);
      const g = await w.store.scalingGroups.upsert({ name, scheduler: kind });
      w.groups.set(g.name, g.scheduler);
      scheduler().tell({ type: "pass" });
      return g as unknown as Record<string, unknown>;
    },
    async getAutoscaler(name) {
      const g = await group(name);
      const status = await autoscaler().ask({ type: "status", group: name });
      return {
        config: readAutoscalerConfig(g.autoscaler),
        status: status ?? null,
      };
    },
    async putAutoscaler(name, raw) {
      await group(name);
      const parsed = AutoscalerConfig.safeParse(raw);
      if (!parsed.success) {
        throw new DomainError(
          "invalid-api-params",
          `Invalid autoscaler settings: ${parsed.error.message}`,
        );
      }
      await w.store.scalingGroups.upsert({
        name,
        autoscaler: parsed.data as unknown as Record<string, Json>,
      });
      autoscaler().tell({
        type: "configure",
        group: name,
        config: parsed.data,
      });
      return { config: parsed.data };
    },
    ...(w.debugHooks
      ? {
        debugCrash(actor: "scheduler") {
          scheduler().tell({
            type: "debug.crash",
            reason: `admin debug hook: crash the ${actor}`,
          });
          return Promise.resolve();
        },
      }
      : {}),
  };
}

/** Errors from an ask lose their class when they cross the runtime; the name survives. */
function isNamed(e: unknown, name: string): boolean {
  return e instanceof Error && e.name === name;
}
