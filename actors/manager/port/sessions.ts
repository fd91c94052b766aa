/**
 * The session operations of the manager's port: create, look up, run code
 * (long-poll and streamed), files, lifecycle events. Every shape is plain
 * JSON-friendly data.
 *
 * @module
 */

import type { Caller } from "./keypairs.ts";

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
  /** The session's kernel container log (`backend.ai logs`); ended sessions too. */
  logs(caller: Caller, ref: string): Promise<string>;
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
