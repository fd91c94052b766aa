/**
 * Our admin API (`/x/admin/...`) over the store and the actors: keypairs,
 * resource policies, scaling groups, agents, sessions across keypairs,
 * images. Secrets leave the manager only once, in createKeypair's answer.
 *
 * @module
 */

import type { ActorRef, Entities } from "../runtime/types.ts";
import type { AdminDeps } from "./port/mod.ts";
import { mergeImages } from "../../images/listing.ts";
import { DomainError } from "./errors.ts";
import {
  InUseError,
  type Json,
  type Keypair,
  NotFoundError,
  type SessionStatus,
  type Store,
} from "./store/mod.ts";
import type { KeypairMsg } from "./keypair.ts";
import {
  AGENT_PATHS,
  type AgentImage,
  type AgentMsg,
} from "../protocol/agent.ts";
import type { AgentsMsg } from "./agents.ts";
import type { PendingView, SchedulerMsg } from "./scheduler.ts";
import type { AutoscalerMsg } from "./autoscaler.ts";
import {
  AutoscalerConfig,
  readAutoscalerConfig,
  stampDrainTimeout,
} from "./autoscaler_config.ts";
import { NotManagedError } from "./autoscaler_driver.ts";
import { PATHS } from "./root.ts";
import { MANAGER_NODE } from "./names.ts";
import type { SchedulerKind } from "../../policies/scheduling/mod.ts";

export interface AdminWiring {
  store: Store;
  system: { refFor<M>(a: { node: string; path: string }): ActorRef<M> };
  keypairs: Entities<KeypairMsg>;
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
      try {
        await w.store.keypairs.setActive(ak, false);
      } catch (e) {
        if (e instanceof NotFoundError) {
          throw new DomainError("object-not-found", "No such keypair.");
        }
        throw e;
      }
      reload(ak);
    },
    async deleteKeypair(ak) {
      let deleted: boolean;
      try {
        deleted = await w.store.keypairs.delete(ak);
      } catch (e) {
        if (e instanceof InUseError) {
          // History stays: the sessions and their usage name this keypair.
          throw new DomainError(
            "object-in-use",
            `Keypair ${ak} has ${e.usedBy}; its history is kept. ` +
              `Deactivate it instead (POST /x/admin/keypairs/${ak}/deactivate).`,
            { accessKey: ak },
          );
        }
        throw e;
      }
      if (!deleted) {
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
    async deleteResourcePolicy(name) {
      if (name === "default") {
        // Every start re-creates it, and new keypairs fall back to it.
        throw new DomainError(
          "object-in-use",
          "The default resource policy cannot be deleted.",
          { name },
        );
      }
      let deleted: boolean;
      try {
        deleted = await w.store.policies.delete(name);
      } catch (e) {
        if (e instanceof InUseError) {
          throw new DomainError(
            "object-in-use",
            `Resource policy ${name} is used by ${e.usedBy}; move them to another policy first.`,
            { name },
          );
        }
        throw e;
      }
      if (!deleted) {
        throw new DomainError("object-not-found", "No such resource policy.");
      }
    },
    async listScalingGroups() {
      return (await w.store.scalingGroups.list()) as unknown as Record<
        string,
        unknown
      >[];
    },
    async putScalingGroup(name, group) {
      const g = await w.store.scalingGroups.upsert(
        { ...group, name } as { name: string; scheduler?: SchedulerKind },
      );
      scheduler().tell({
        type: "scheduler-kind",
        scalingGroup: g.name,
        kind: g.scheduler,
      });
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
      // The agents know their engines' images; the manager may have no Docker.
      const live = (await agents().ask<{ id: string; status: string }[]>({
        type: "list",
      })).filter((a) => a.status === "ALIVE");
      const reports = await Promise.all(
        live.map((a) =>
          w.system.refFor<AgentMsg>({ node: a.id, path: AGENT_PATHS.agent })
            .ask<AgentImage[]>({ type: "images.list" }, { timeoutMs: 10_000 })
            .then((images) => ({ agent: a.id, images }), () => undefined)
        ),
      );
      return mergeImages(
        reports.filter((r) => r !== undefined),
      ) as unknown as Record<
        string,
        unknown
      >[];
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
      scheduler().tell({
        type: "scheduler-kind",
        scalingGroup: g.name,
        kind: g.scheduler,
      });
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
      const g = await group(name);
      const parsed = AutoscalerConfig.safeParse(raw);
      if (!parsed.success) {
        throw new DomainError(
          "invalid-api-params",
          `Invalid autoscaler settings: ${parsed.error.message}`,
        );
      }
      // When the drain timeout changed, for drain deadlines (autoscaler_config.ts).
      const config = stampDrainTimeout(
        readAutoscalerConfig(g.autoscaler),
        parsed.data,
        Date.now(),
      );
      await w.store.scalingGroups.upsert({
        name,
        autoscaler: config as unknown as Record<string, Json>,
      });
      autoscaler().tell({ type: "configure", group: name, config });
      return { config };
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
    async getSession(id) {
      // The id column is a uuid: anything else cannot name a session.
      if (!UUID_TEXT.test(id)) return undefined;
      const s = await w.store.sessions.get(id);
      if (!s) return undefined;
      const kernels = await w.store.kernels.listBySession(id);
      return {
        ...s,
        createdAt: s.createdAt.toISOString(),
        terminatedAt: s.terminatedAt?.toISOString() ?? null,
        lastActivity: s.lastActivity.toISOString(),
        kernels: kernels.map((k) => ({
          ...k,
          createdAt: k.createdAt.toISOString(),
          terminatedAt: k.terminatedAt?.toISOString() ?? null,
        })),
      } as unknown as Record<string, unknown>;
    },
    async modifyKeypair(ak, patch) {
      if (
        patch.resourcePolicy !== undefined &&
        !(await w.store.policies.get(patch.resourcePolicy))
      ) {
        throw new DomainError(
          "invalid-api-params",
          `No such resource policy: ${patch.resourcePolicy}`,
        );
      }
      try {
        await w.store.keypairs.update(ak, patch);
      } catch (e) {
        if (e instanceof NotFoundError) {
          throw new DomainError("object-not-found", "No such keypair.");
        }
        throw e;
      }
      reload(ak);
    },
    async kernelLogs(sessionId) {
      const kernels = await w.store.kernels.listBySession(sessionId);
      const k = kernels.find((x) => x.agentId && !x.terminatedAt);
      if (!k?.agentId) return "";
      const res = await w.system.refFor<AgentMsg>({
        node: k.agentId,
        path: AGENT_PATHS.agent,
      }).ask<{ logs: string | null; error?: string }>(
        { type: "kernel.logs", kernelId: k.id },
        { timeoutMs: 15_000 },
      );
      if (res.error !== undefined) {
        throw new DomainError(
          "service-unavailable",
          `The agent could not read the kernel's log: ${res.error}`,
        );
      }
      return res.logs ?? "";
    },
  };
}

const UUID_TEXT =
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Errors from an ask lose their class when they cross the runtime; the name survives. */
function isNamed(e: unknown, name: string): boolean {
  return e instanceof Error && e.name === name;
}
