/**
 * A small, generic actor runtime for Deno: location-transparent refs, FIFO
 * mailboxes with a system lane, Erlang/OTP supervision, death watch, named
 * actors and lazily activated entities, dead letters, deferred replies,
 * trace context on messages, and counters a metrics module can read. `actors/cluster` plugs
 * a transport into it to reach actors on other nodes.
 *
 * @module
 */

export * from "./types.ts";
export { ActorSystem } from "./system.ts";
export type { ActorSystemOptions } from "./system.ts";
export type { Logger, LogLevel } from "./log.ts";
export {
  ActorStoppingError,
  InvalidActorNameError,
  RemoteStopError,
} from "./errors.ts";
export { DeadLetters } from "./dead_letters.ts";
export { DEFAULT_IDLE_MS, EntityRegion } from "./entities.ts";
export { PathRegistry } from "./registry.ts";
export { DEFAULT_ASK_TIMEOUT_MS, LocalRef, RemoteRef } from "./ref.ts";
export { DEFAULT_STRATEGY } from "./supervision.ts";
export { ReplyLater, replyLater } from "./reply_later.ts";
export {
  isTraceparent,
  messageTraceparent,
  validTraceparent,
} from "./trace_context.ts";
export {
  type AmbientTrace,
  setAmbientTrace,
  setTraceScope,
  type TraceScope,
} from "./trace_scope.ts";
export { type Expirable, TimeoutQueue, timeouts } from "./ask.ts";
export {
  type ChildSpec,
  Supervisor,
  type SupervisorSpec,
} from "./supervisor.ts";
export {
  abortable,
  deadline,
  DeadlineError,
  delay,
  pooledMap,
  retry,
  RetryError,
} from "./async.ts";
export type { DeadlineOptions, DelayOptions, RetryOptions } from "./async.ts";
