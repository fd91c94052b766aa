/**
 * Typed errors of the cluster transport. Callers branch on the class (or its
 * `name`, which survives a trip over the wire), never on the message text.
 *
 * @module
 */

import type { Address } from "../runtime/types.ts";

/**
 * The node hosting the target is down, unknown, or its link was lost while
 * the ask was pending. Asks fail with this at once instead of waiting for
 * their timeout, so callers can react (pick another agent, mark it lost).
 */
export class NodeUnreachableError extends Error {
  override name = "NodeUnreachableError";
  constructor(
    readonly node: string,
    readonly to?: Address,
    reason = "node unreachable",
  ) {
    super(`${reason}: ${node}${to ? to.path : ""}`);
  }
}

/**
 * The outbound queue to a node is over its bound because the socket does not
 * drain fast enough. Asks reject with this; tells become dead letters.
 */
export class ClusterBackpressureError extends Error {
  override name = "ClusterBackpressureError";
  constructor(
    readonly node: string,
    readonly queued: number,
    readonly bound: number,
  ) {
    super(
      `outbound queue to ${node} is full (${queued} queued, bound ${bound})`,
    );
  }
}

/**
 * A single message encodes to more bytes than the maximum (the cluster's
 * `maxMessageBytes`; messages up to it travel in fragments).
 */
export class FrameTooLargeError extends Error {
  override name = "FrameTooLargeError";
  constructor(readonly bytes: number, readonly maxBytes: number) {
    super(`frame of ${bytes} bytes exceeds the maximum of ${maxBytes} bytes`);
  }
}

/** Why a handshake was refused; `code` is stable, `detail` is for humans. */
export type RefusalCode =
  | "bad-secret"
  | "clock-skew"
  | "replay"
  | "malformed"
  | "self"
  | "protocol"
  | "timeout"
  | "closing";

/**
 * The peer (or this node) refused the handshake. The refused side gets the
 * code in a close frame so it can log why; `bad-secret` is not retried.
 */
export class HandshakeRefusedError extends Error {
  override name = "HandshakeRefusedError";
  constructor(readonly code: RefusalCode, readonly detail: string) {
    super(`handshake refused (${code}): ${detail}`);
  }
}

/** A received message failed the schema registered for its target path. */
export class InvalidMessageError extends Error {
  override name = "InvalidMessageError";
  constructor(readonly path: string, readonly issues: string) {
    super(`message to ${path} failed validation: ${issues}`);
  }
}

/**
 * An error thrown by a remote actor that has no local class: keeps the
 * remote `name` and message so callers can still tell errors apart.
 */
export class RemoteError extends Error {
  constructor(
    readonly remoteName: string,
    message: string,
    readonly node: string,
  ) {
    super(message);
    this.name = remoteName;
  }
}
