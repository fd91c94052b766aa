/**
 * The manager's Postgres store: `openStore()` and the typed repositories the
 * manager's actors call, the session lifecycle table, and the store's errors.
 *
 * @example
 * ```ts ignore
 * import { openStore } from "./mod.ts";
 * const store = await openStore({ dataDir: "var/manager", databaseUrl: Deno.env.get("DATABASE_URL") });
 * await store.ensureDefaults();
 * const kp = await store.keypairs.create({ userId: "alice" });
 * const s = await store.sessions.insert({ name: "nb1", accessKey: kp.accessKey, image: "python:3" });
 * await store.sessions.transition(s.id, "SCHEDULED", "placed");
 * await store.close();
 * ```
 *
 * @module
 */
export {
  databaseUrlFromEnv,
  openStore,
  type Store,
  type StoreOptions,
} from "./store.ts";
export {
  type EmbeddedPostgres,
  type EmbeddedPostgresOptions,
  startEmbeddedPostgres,
} from "./embedded.ts";
export {
  DEFAULT_MIGRATIONS_DIR,
  loadMigrations,
  migrate,
  type Migration,
  type MigrationResult,
} from "./migrate.ts";
export * from "./errors.ts";
export { type DriverFailure, driverFailure } from "./failures.ts";
export * from "../lifecycle.ts";
export type * from "./types.ts";
export { type AgentFilter, type AgentInput, AgentRepo } from "./agents.ts";
export { type KernelInput, type KernelPatch, KernelRepo } from "./kernels.ts";
export {
  generateAccessKey,
  generateSecretKey,
  type KeypairInput,
  KeypairRepo,
} from "./keypairs.ts";
export { PolicyRepo, type ResourcePolicyInput } from "./policies.ts";
export { type ScalingGroupInput, ScalingGroupRepo } from "./scaling_groups.ts";
export {
  type FindByRefOptions,
  type SessionFilter,
  type SessionInput,
  type SessionListOptions,
  SessionRepo,
  type TransitionPatch,
} from "./sessions.ts";
export { type UsageInput, UsageRepo } from "./usage.ts";
export {
  CostRepo,
  type PhasedSession,
  type PhaseQuery,
  type StoredCostSettings,
  type StoredPhase,
  type StoredPrices,
} from "./cost.ts";
export {
  type WebSessionInput,
  WebSessionRepo,
  type WebSessionRow,
} from "./web_sessions.ts";
