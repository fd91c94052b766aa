/**
 * Row types of the manager's store, with camelCase fields. Each repository
 * maps its snake_case rows to these explicitly (see _row.ts), converting
 * Postgres bigint/numeric strings to numbers and trimming char(20) keys.
 *
 * @module
 */

import type { SessionStatus } from "../lifecycle.ts";
import type { SchedulerKind } from "../../../policies/scheduling/mod.ts";

/** Any JSON value, as kept in jsonb columns. */
export type Json = string | number | boolean | null | Json[] | {
  [key: string]: Json;
};

/**
 * Amounts per slot name ("cpu": cores, "mem": bytes, "cuda.device": count).
 * Numbers, not Backend.AI's decimal strings: bytes stay below 2^53.
 */
export type ResourceSlots = Record<string, number>;

/** Limits applied to every keypair that names this policy. */
export interface ResourcePolicy {
  name: string;
  totalResourceSlots: ResourceSlots;
  maxConcurrentSessions: number;
  maxContainersPerSession: number;
  /** Seconds of inactivity before a session is terminated; 0 = never. */
  idleTimeout: number;
  /** Seconds a session may live; 0 = no limit. */
  maxSessionLifetime: number;
  maxVfolderCount: number;
  /** Bytes; 0 = unlimited. */
  maxVfolderSize: number;
  /** Bytes a kernel's work dir may hold; 0 = the agent's default (--scratch-quota). */
  maxScratchSize: number;
  /** Cost units per UTC day; null = unlimited. */
  dailyCostLimit: number | null;
  createdAt: Date;
}

/** An API credential (access key + secret key) of a user. */
export interface Keypair {
  accessKey: string;
  secretKey: string;
  userId: string;
  isActive: boolean;
  isAdmin: boolean;
  /** Requests per 15-minute window. */
  rateLimit: number;
  resourcePolicy: string;
  createdAt: Date;
}

/** A set of agents sessions are scheduled onto. */
export interface ScalingGroup {
  name: string;
  isActive: boolean;
  /** How the group orders its pending queue (a registered policy). */
  scheduler: SchedulerKind;
  schedulerOpts: Record<string, Json>;
  autoscaler: Record<string, Json>;
  createdAt: Date;
}

/** Liveness of an agent as the manager sees it. */
export type AgentStatus = "ALIVE" | "LOST" | "TERMINATED" | "DRAINING";

/** A node that runs kernels. */
export interface Agent {
  id: string;
  addr: string;
  region: string;
  scalingGroup: string;
  status: AgentStatus;
  schedulable: boolean;
  resourceSlots: ResourceSlots;
  availableSlots: ResourceSlots;
  occupiedSlots: ResourceSlots;
  architecture: string;
  images: Json[];
  version: string;
  computePlugins: Record<string, Json>;
  firstContact: Date;
  lastSeen: Date;
  lostAt: Date | null;
  /** Why it is in its status, in words (migration 0006). */
  statusInfo: string | null;
  /** The drain in force, if any: who drained it, why, since when. */
  drain: AgentDrain | null;
}

/** Who drained an agent: the autoscaler, an operator, or the agent itself (SIGTERM). */
export type AgentDrainedBy = "scale-in" | "admin" | "agent";

/** A drain in force (agents.drained_by, drain_reason, drain_started_at). */
export interface AgentDrain {
  by: AgentDrainedBy;
  reason: string;
  since: Date;
}

/** Kind of a session (API.md: `type`). */
export type SessionType = "interactive" | "batch" | "inference";

/** A compute session. */
export interface Session {
  id: string;
  name: string;
  accessKey: string;
  image: string;
  type: SessionType;
  status: SessionStatus;
  statusInfo: string | null;
  occupiedSlots: ResourceSlots;
  requestedSlots: ResourceSlots;
  agentId: string | null;
  scalingGroup: string;
  config: Record<string, Json>;
  tag: string | null;
  protected: boolean;
  createdAt: Date;
  terminatedAt: Date | null;
  numQueries: number;
  lastStat: Json | null;
  lastActivity: Date;
}

/** One status transition of a session. */
export interface SessionEvent {
  id: number;
  sessionId: string;
  status: SessionStatus;
  reason: string | null;
  at: Date;
}

/** A container of a session. */
export interface Kernel {
  id: string;
  sessionId: string;
  agentId: string | null;
  containerId: string | null;
  image: string;
  status: string;
  occupiedSlots: ResourceSlots;
  createdAt: Date;
  terminatedAt: Date | null;
}

/** Metered use of one kernel (or session) over an interval. */
export interface UsageRecord {
  id: number;
  kernelId: string | null;
  sessionId: string;
  accessKey: string;
  cpuMs: number;
  memPeakKib: number;
  memKibMs: number;
  ioRead: number;
  ioWrite: number;
  gpuMs: number;
  startedAt: Date;
  endedAt: Date;
  cost: number;
}

/** Sums of usage records. */
export interface UsageSum {
  records: number;
  cpuMs: number;
  memKibMs: number;
  ioRead: number;
  ioWrite: number;
  gpuMs: number;
  cost: number;
}
