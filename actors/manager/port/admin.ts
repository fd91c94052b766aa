/**
 * The admin operations of the manager's port (`/x/admin/...`): keypairs,
 * resource policies, scaling groups, agents, sessions across keypairs,
 * images, and the scheduling controls.
 *
 * @module
 */

import type { CreateKeypairRequest, KeypairView } from "./keypairs.ts";
import type { SchedulerKind } from "../../../policies/scheduling/mod.ts";

/** Admin listing filter of sessions across keypairs. */
export interface AdminSessionFilter {
  accessKey?: string;
  status?: string[];
  limit: number;
  offset: number;
}

/** Our admin API (`/x/admin/...`); inputs are validated, outputs passed through as JSON. */
/**
 * Scheduling and scaling operations of the admin API (routes/admin.ts):
 * drain, stop, the pending queue, the scheduler kind and autoscaler of a
 * scaling group.
 */
export interface ClusterAdminDeps {
  /** Drains (takes nothing new) or undrains an agent; answers its view. */
  setAgentDraining(
    id: string,
    draining: boolean,
  ): Promise<Record<string, unknown>>;
  /** Stops an autoscaler-started agent at once (admin override of protection). */
  stopAgent(id: string): Promise<void>;
  /** The scheduler's pending queue with the reason each session waits. */
  pendingSessions(scalingGroup?: string): Promise<Record<string, unknown>[]>;
  /** Sets a scaling group's scheduler kind; answers the group. */
  setScheduler(
    group: string,
    scheduler: SchedulerKind,
  ): Promise<Record<string, unknown>>;
  /** `{config, status}` of a scaling group's autoscaler. */
  getAutoscaler(group: string): Promise<Record<string, unknown>>;
  /** Validates and stores the group's autoscaler settings, then applies them. */
  putAutoscaler(
    group: string,
    config: Record<string, unknown>,
  ): Promise<Record<string, unknown>>;
  /** Test hook; present only when the manager enables debug hooks. */
  debugCrash?(actor: "scheduler"): Promise<void>;
}

export interface AdminDeps extends ClusterAdminDeps {
  /** The only place a secret key is returned. */
  createKeypair(
    req: CreateKeypairRequest,
  ): Promise<{ accessKey: string; secretKey: string }>;
  listKeypairs(): Promise<KeypairView[]>;
  deactivateKeypair(accessKey: string): Promise<void>;
  deleteKeypair(accessKey: string): Promise<void>;
  listResourcePolicies(): Promise<Record<string, unknown>[]>;
  putResourcePolicy(
    name: string,
    policy: Record<string, unknown>,
  ): Promise<Record<string, unknown>>;
  deleteResourcePolicy(name: string): Promise<void>;
  listScalingGroups(): Promise<Record<string, unknown>[]>;
  putScalingGroup(
    name: string,
    group: Record<string, unknown>,
  ): Promise<Record<string, unknown>>;
  listAgents(): Promise<Record<string, unknown>[]>;
  getAgent(id: string): Promise<Record<string, unknown>>;
  listSessions(
    filter: AdminSessionFilter,
  ): Promise<{ sessions: Record<string, unknown>[]; total: number }>;
  listImages(): Promise<Record<string, unknown>[]>;
  /**
   * One session of any keypair by its id, with its `kernels` (the GraphQL
   * `compute_session` field; the edge scopes it to the caller), or
   * undefined when there is none. Dates as ISO text.
   */
  getSession(id: string): Promise<Record<string, unknown> | undefined>;
  /**
   * Changes the given fields of a keypair (GraphQL `modify_keypair`).
   * Throws object-not-found for an unknown keypair, invalid-api-params for
   * an unknown resource policy.
   */
  modifyKeypair(accessKey: string, patch: ModifyKeypairRequest): Promise<void>;
  /**
   * The container log of a session's main kernel, read by its agent
   * (`GET /session/{ref}/logs`; the edge resolves `ref` within the caller's
   * keypair first). "" for a session whose kernel has ended. Throws
   * service-unavailable when the agent could not read it.
   */
  kernelLogs(sessionId: string): Promise<string>;
}

/** Fields of {@link AdminDeps.modifyKeypair}; omitted ones stay. */
export interface ModifyKeypairRequest {
  isActive?: boolean;
  isAdmin?: boolean;
  rateLimit?: number;
  resourcePolicy?: string;
}
