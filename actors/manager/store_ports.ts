/**
 * Adapts the Postgres store (store/) to the narrow ports the domain actors
 * declare (services.ts, sessions.ts, agents.ts, keypair.ts), so actors
 * never see SQL rows and the store never sees actor types.
 *
 * @module
 */

import type { KeypairResourcePolicy } from "../../policies/admission.ts";
import { DomainError } from "./errors.ts";
import { isEnded } from "./lifecycle.ts";
import type { AgentsStorePort } from "./agents.ts";
import type { KeypairStorePort } from "./keypair.ts";
import type { SessionsStorePort } from "./session/sessions.ts";
import type { Mount } from "./session/create.ts";
import type { SessionRow, SessionStorePort } from "./services.ts";
import {
  type Json,
  type Kernel,
  NotFoundError,
  type Session,
  SessionNameConflictError,
  type Store,
} from "./store/mod.ts";

export type StorePorts =
  & SessionStorePort
  & SessionsStorePort
  & AgentsStorePort
  & KeypairStorePort;

/** A non-negative integer from a reported figure (NaN, negative or missing: 0). */
function whole(n: number | undefined): number {
  return typeof n === "number" && Number.isFinite(n) && n > 0
    ? Math.round(n)
    : 0;
}

export function storePorts(store: Store): StorePorts {
  const currentKernel = async (
    sessionId: string,
  ): Promise<Kernel | undefined> => {
    const ks = await store.kernels.listBySession(sessionId);
    return ks.at(-1);
  };
  const toRow = (s: Session, k: Kernel | undefined): SessionRow => ({
    id: s.id,
    name: s.name,
    accessKey: s.accessKey,
    image: s.image,
    type: s.type,
    status: s.status,
    statusInfo: s.statusInfo,
    agentId: s.agentId,
    kernelId: k?.id ?? null,
    containerId: k?.containerId ?? null,
    scalingGroup: s.scalingGroup,
    requestedSlots: s.requestedSlots,
    occupiedSlots: s.occupiedSlots,
    config: s.config as SessionRow["config"],
    mounts: (s.config as { resolvedMounts?: Mount[] }).resolvedMounts ?? [],
    tag: s.tag,
    protected: s.protected,
    createdAt: s.createdAt.getTime(),
    terminatedAt: s.terminatedAt?.getTime() ?? null,
    lastActivity: s.lastActivity.getTime(),
    numQueries: s.numQueries,
    lastStat: (s.lastStat ?? null) as Record<string, unknown> | null,
  });
  const rowOf = async (s: Session) => toRow(s, await currentKernel(s.id));

  return {
    async getSession(id) {
      const s = await store.sessions.get(id);
      return s ? await rowOf(s) : undefined;
    },
    async transition(id, status, reason, patch = {}, via) {
      // On the path of every session start: each round trip counts, so the
      // kernel row is carried along rather than read again.
      let kernel: Kernel | undefined | null;
      if (patch.kernelId) {
        const s0 = await store.sessions.get(id);
        if (!s0) throw new DomainError("object-not-found", "No such session.");
        // A restart's new kernel replaces the old one (which the agent
        // destroys): the old one is no longer live, so an agent that
        // rejoins does not keep it.
        const prev = await currentKernel(id);
        if (prev && prev.id !== patch.kernelId && !prev.terminatedAt) {
          await store.kernels.update(prev.id, {
            status: "TERMINATED",
            terminatedAt: new Date(),
          });
        }
        kernel = prev?.id === patch.kernelId ? prev : await store.kernels
          .insert({
            id: patch.kernelId,
            sessionId: id,
            image: s0.image,
            agentId: patch.agentId ?? s0.agentId,
            status: "PREPARING",
            occupiedSlots: s0.requestedSlots,
          });
      } else {
        kernel = await currentKernel(id);
      }
      if (kernel && (patch.containerId || status === "RUNNING")) {
        kernel = await store.kernels.update(kernel.id, {
          containerId: patch.containerId ?? kernel.containerId,
          status: "RUNNING",
        });
      }
      if (kernel && isEnded(status)) {
        kernel = await store.kernels.update(kernel.id, {
          status: "TERMINATED",
          terminatedAt: new Date(),
        });
      }
      let s: Session;
      try {
        s = await store.sessions.transition(id, status, reason, {
          agentId: patch.agentId,
          occupiedSlots: patch.occupiedSlots,
        }, via);
      } catch (e) {
        if (e instanceof NotFoundError) {
          throw new DomainError("object-not-found", "No such session.");
        }
        throw e;
      }
      if (patch.lastStat) {
        await store.sessions.recordActivity(id, {
          lastStat: patch.lastStat as Json,
        });
      }
      return toRow(s, kernel ?? undefined);
    },
    async touch(id, numQueries) {
      await store.sessions.recordActivity(id, { numQueries });
    },
    async recordUsage(row, stats) {
      await store.usage.record({
        kernelId: row.kernelId,
        sessionId: row.id,
        accessKey: row.accessKey,
        // The columns are integers; agents report fractions (cpu ms, KiB).
        cpuMs: whole(stats.cpuMs),
        memPeakKib: whole(stats.memPeakKiB),
        memKibMs: whole(
          whole(stats.memKiB) * Math.max(0, Date.now() - row.createdAt),
        ),
        ioRead: whole(stats.ioReadBytes),
        ioWrite: whole(stats.ioWriteBytes),
        gpuMs: 0,
        startedAt: new Date(row.createdAt),
        endedAt: new Date(),
      });
      await store.sessions.recordActivity(row.id, { lastStat: stats as Json });
    },
    async listLive() {
      return await Promise.all((await store.sessions.listLive()).map(rowOf));
    },
    async findByRef(accessKey, ref, includeEnded) {
      const found = await store.sessions.findByRef(accessKey, ref, {
        includeEnded,
      });
      return await Promise.all(found.map(rowOf));
    },
    async insert(row) {
      try {
        await store.sessions.insert({
          id: row.id,
          name: row.name,
          accessKey: row.accessKey,
          image: row.image,
          type: row.type as Session["type"],
          scalingGroup: row.scalingGroup,
          requestedSlots: row.requestedSlots,
          // The resolved mounts travel in the config, so a session resumed
          // after a manager restart mounts the same paths.
          config: {
            ...row.config,
            resolvedMounts: row.mounts ?? [],
          } as unknown as Record<string, Json>,
          tag: row.tag,
          protected: row.protected,
          reason: "created",
        });
      } catch (e) {
        if (e instanceof SessionNameConflictError) {
          throw new DomainError(
            "session-already-exists",
            "The session already exists.",
            {
              existingSessionId: e.existingSessionId,
            },
          );
        }
        throw e;
      }
    },
    async upsertAgent(info, status, statusInfo = null) {
      await store.agents.upsert({
        id: info.id,
        addr: info.addr,
        region: info.region,
        scalingGroup: info.scalingGroup,
        resourceSlots: info.resourceSlots,
        availableSlots: info.availableSlots,
        architecture: info.architecture,
        images: info.images,
        version: info.version,
        computePlugins: info.computePlugins as Record<string, Json>,
      });
      const a = await store.agents.setStatus(info.id, status, statusInfo);
      return a?.drain ? { ...a.drain, since: a.drain.since.getTime() } : null;
    },
    async setAgentDrain(id, drain) {
      await store.agents.setDrain(
        id,
        drain && { ...drain, since: new Date(drain.since) },
      );
    },
    async liveKernelsOn(agentId) {
      return (await store.kernels.listLiveOnAgent(agentId)).map((k) => k.id);
    },
    async keypair(accessKey) {
      const k = await store.keypairs.get(accessKey);
      if (!k) return undefined;
      return {
        accessKey: k.accessKey,
        secretKey: k.secretKey,
        isActive: k.isActive,
        isAdmin: k.isAdmin,
        rateLimit: k.rateLimit,
        resourcePolicy: k.resourcePolicy,
        userId: k.userId,
      };
    },
    async policy(name): Promise<KeypairResourcePolicy | undefined> {
      const p = await store.policies.get(name);
      if (!p) return undefined;
      // The store keeps 0 for "unlimited" counts; the policy says null.
      const orNull = (n: number) => (n > 0 ? n : null);
      return {
        total_resource_slots: p.totalResourceSlots,
        max_concurrent_sessions: orNull(p.maxConcurrentSessions),
        max_containers_per_session: orNull(p.maxContainersPerSession),
        idle_timeout: p.idleTimeout,
        max_session_lifetime: p.maxSessionLifetime,
        max_vfolder_count: p.maxVfolderCount,
        max_vfolder_size: p.maxVfolderSize,
        max_scratch_size: p.maxScratchSize,
        daily_cost_limit: p.dailyCostLimit,
      };
    },
    async liveSessions(accessKey) {
      return (await store.sessions.listLive({ accessKey })).map((s) => ({
        id: s.id,
        slots: s.requestedSlots,
      }));
    },
    async costToday(accessKey, now) {
      return (await store.usage.sumForDay(accessKey, new Date(now))).cost;
    },
  };
}
