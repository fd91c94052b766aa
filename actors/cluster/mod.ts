/**
 * Cluster transport for the actor runtime: location-transparent refs across
 * Deno processes over authenticated, batched WebSocket links; messages up
 * to 64 MiB (larger than a frame travel in fragments); per-peer figures
 * (`cluster.peers()`: RTT, reconnects) and counters (`cluster.stats`) for
 * a metrics module.
 *
 * ```ts ignore
 * import { ActorSystem } from "../runtime/mod.ts";
 * import { Cluster } from "./mod.ts";
 * const system = new ActorSystem({ nodeId: "manager" });
 * const cluster = new Cluster(system, { secret: Deno.env.get("CLUSTER_SECRET")! });
 * const { url } = await cluster.listen({ port: 0 });
 * cluster.on("down", (e) => console.log(`${e.node} is down: ${e.reason}`));
 * ```
 *
 * @module
 */

export {
  Cluster,
  type ClusterOptions,
  type ClusterStats,
  type ListenInfo,
  type PeerInfo,
} from "./cluster.ts";
export { DEFAULT_MAX_MESSAGE_BYTES } from "./link.ts";
export {
  ClusterBackpressureError,
  FrameTooLargeError,
  HandshakeRefusedError,
  InvalidMessageError,
  NodeUnreachableError,
  type RefusalCode,
  RemoteError,
} from "./errors.ts";
export type {
  ClusterEvents,
  MemberEvent,
  MemberInfo,
  MemberStatus,
  RefusedEvent,
  RemoteDeadLetter,
} from "./membership.ts";
export {
  type FailureDetectorOptions,
  PhiAccrualFailureDetector,
} from "./failure_detector.ts";
export {
  decodeFrame,
  DEFAULT_MAX_FRAME_BYTES,
  encodeEnvelope,
  FrameQueue,
} from "./framing.ts";
export {
  checkHello,
  checkWelcome,
  importSecret,
  makeHello,
  makeWelcome,
  NonceCache,
} from "./handshake.ts";
export { Kind, PROTOCOL_VERSION } from "./protocol.ts";
export { actorRefSchema, type MessageSchema } from "./schemas.ts";
export {
  currentTraceparent,
  inboundTraceparent,
  newTraceparent,
} from "./trace.ts";
export { backoffDelay, type BackoffOptions } from "./backoff.ts";
