/**
 * The boundary between the HTTP gateway and the manager. Routes code only
 * against {@link GatewayDeps}; the manager supplies an implementation backed
 * by its actors (keypair, session, scheduler, registry). Every shape here is
 * plain JSON-friendly data so an adapter can forward it over an actor `ask`.
 *
 * Failures: implementations throw {@link ProblemError} (see problems.ts) or
 * any `Error` with a `problemType` property naming an API problem
 * (e.g. `"object-not-found"`, `"too-many-sessions-matched"`,
 * `"session-already-exists"` with `problemData: { existingSessionId }`).
 * Anything else becomes a logged 500.
 *
 * @module
 */

/** What the gateway needs to know about a keypair to authenticate and limit it. */
export interface KeypairAuth {
  accessKey: string;
  secretKey: string;
  isActive: boolean;
  isAdmin: boolean;
  /** Requests allowed per rolling 900 s window; `undefined` → the gateway default. */
  rateLimit?: number;
  resourcePolicy: string;
  userId?: string;
}

/**
 * Who a call acts for. `accessKey` is the owning keypair (the requester's, or
 * the `owner_access_key` an admin named); `requester` is who signed it.
 */
export interface Caller {
  accessKey: string;
  requester: string;
  isAdmin: boolean;
}

/** Session types of Backend.AI. */
export type SessionType = "interactive" | "batch";

/** A validated `POST /session` request, names normalised (API.md "Parameters"). */
export interface CreateSessionRequest {
  image: string;
  name: string;
  type: SessionType;
  startupCommand?: string;
  enqueueOnly: boolean;
  /** 0 → wait until RUNNING without a deadline. */
  maxWaitSeconds: number;
  reuseIfExists: boolean;
  tag?: string;
  /** Decoded from base64. */
  bootstrapScript?: string;
  config: {
    /** Slot name → amount; `mem` in bytes ("1g" already converted). */
    resources: Record<string, number>;
    resourceOpts: Record<string, unknown>;
    mounts: string[];
    mountMap: Record<string, string>;
    environ: Record<string, string>;
    scalingGroup?: string;
    preopenPorts: number[];
    /**
     * `config.scale_in_protected`: scale-in may drain the session's node
     * but never stops it while the session runs (policies/protection.ts).
     */
    scaleInProtected?: boolean;
  };
}

/** Reply of a create; the gateway adds `kernelId` on v4 paths. */
export interface CreateSessionResult {
  sessionId: string;
  sessionName: string;
  status: string;
  servicePorts: unknown[];
  /** false when an existing session was reused (HTTP 200 instead of 201). */
  created: boolean;
  [extra: string]: unknown;
}

/** `GET /session/{ref}`. Extra fields pass through. */
export interface SessionInfo {
  sessionId: string;
  sessionName: string;
  lang: string;
  image: string;
  status: string;
  statusInfo: string | null;
  /** Milliseconds since creation. */
  age: number;
  creationTime: string;
  terminationTime: string | null;
  occupiedSlots: Record<string, number | string>;
  numQueriesExecuted: number;
  lastStat: Record<string, unknown> | null;
  [extra: string]: unknown;
}

/** Execution modes of the long-poll API. */
export type ExecuteMode = "query" | "batch" | "continue" | "input";

/** A validated `POST /session/{ref}` execute request; runId always set. */
export interface ExecuteRequest {
  mode: ExecuteMode;
  code: string;
  runId: string;
  options: Record<string, unknown>;
}

/** One console item: `["stdout", s]`, `["stderr", s]`, `["media", [mime, data]]`, `["html", s]`. */
export type ConsoleItem = [string, unknown];

/** The `result` object of an execute / continue / input call and of a stream frame. */
export interface ExecuteResult {
  runId: string;
  /** finished | continued | waiting-input | exec-timeout | clean-finished | build-finished | ... */
  status: string;
  exitCode: number | null;
  console: ConsoleItem[];
  files: unknown[];
  options: Record<string, unknown> | null;
}

/** `POST /session/{ref}/complete` input. */
export interface CompleteRequest {
  code: string;
  options: { row?: number; col?: number; line?: string; post?: string };
}

/** Bytes of a download reply. */
export interface DownloadResult {
  contentType: string;
  body: Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array<ArrayBuffer>>;
}

/** First client frame of a streaming execution. */
export interface StreamExecuteRequest {
  mode: "query" | "batch";
  code: string;
  options: Record<string, unknown>;
}

/** A frame sent to the WebSocket client. */
export interface StreamFrame {
  status: string;
  console: ConsoleItem[];
  exitCode: number | null;
  options: Record<string, unknown> | null;
  files: unknown[];
}

/**
 * A running streamed execution. The gateway forwards `frames` (already
 * coalesced by the manager, flush ≤ 0.2 s) and ends the socket after a
 * `finished` frame or the end of the iterable.
 */
export interface StreamRun {
  frames: AsyncIterable<StreamFrame>;
  /** Answers a `waiting-input` frame with one line. */
  sendInput(line: string): Promise<void>;
  /** Called when the client disconnects before the run finished. */
  interrupt(): Promise<void>;
}

/** One lifecycle event for `GET /events/session` (SSE `event:` and JSON `data:`). */
export interface SessionEvent {
  event: string;
  data: Record<string, unknown>;
}

/** Filter of `GET /events/session`. */
export interface SessionEventFilter {
  name?: string;
  sessionId?: string;
}

/** The session operations the public API exposes; `ref` per API.md. */
export interface SessionDeps {
  create(
    caller: Caller,
    req: CreateSessionRequest,
  ): Promise<CreateSessionResult>;
  /** Also finds ended sessions. */
  get(caller: Caller, ref: string): Promise<SessionInfo>;
  destroy(
    caller: Caller,
    ref: string,
    opts: { forced: boolean },
  ): Promise<{ stats: Record<string, unknown> }>;
  restart(caller: Caller, ref: string): Promise<void>;
  interrupt(caller: Caller, ref: string): Promise<void>;
  execute(
    caller: Caller,
    ref: string,
    req: ExecuteRequest,
  ): Promise<ExecuteResult>;
  complete(
    caller: Caller,
    ref: string,
    req: CompleteRequest,
  ): Promise<Record<string, unknown>>;
  upload(caller: Caller, ref: string, files: File[]): Promise<void>;
  download(
    caller: Caller,
    ref: string,
    paths: string[],
  ): Promise<DownloadResult>;
  /** Directory listing of `path` (relative to the work dir); returned as JSON as is. */
  listFiles(
    caller: Caller,
    ref: string,
    path: string,
  ): Promise<Record<string, unknown>>;
  /** Starts a streamed run; throws (e.g. object-not-found) before any frame. */
  streamExecute(
    caller: Caller,
    ref: string,
    req: StreamExecuteRequest,
  ): Promise<StreamRun>;
  /** Lifecycle events until the consumer stops iterating (client gone). */
  events(
    caller: Caller,
    filter: SessionEventFilter,
  ): Promise<AsyncIterable<SessionEvent>>;
}

/** Keypair look-ups on the hot path. */
export interface KeypairDeps {
  lookup(accessKey: string): Promise<KeypairAuth | undefined>;
  /** Counts one request in the rolling 900 s window ending at `now` (ms). */
  hit(
    accessKey: string,
    limit: number,
    now: number,
  ): Promise<{ allowed: boolean; remaining: number }>;
}

/** A keypair as admins see it (no secret). */
export interface KeypairView {
  accessKey: string;
  userId?: string;
  isActive: boolean;
  isAdmin: boolean;
  rateLimit?: number;
  resourcePolicy: string;
  [extra: string]: unknown;
}

/** Input of `POST /x/admin/keypairs`. */
export interface CreateKeypairRequest {
  userId?: string;
  isAdmin: boolean;
  rateLimit?: number;
  resourcePolicy: string;
}

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
    scheduler: "fifo" | "lifo" | "drf",
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
}

/** Everything the gateway calls. */
export interface GatewayDeps {
  keypairs: KeypairDeps;
  sessions: SessionDeps;
  admin: AdminDeps;
  /** `GET /config/resource-slots`: slot name → unit ("count", "bytes"). */
  resourceSlots(): Promise<Record<string, string>>;
  /** Our manager version, reported by `GET /`. */
  version: string;
}
