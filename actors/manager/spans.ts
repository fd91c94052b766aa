/**
 * The manager's spans, in the platform's words (actors/telemetry does the
 * tracing): one helper per seam, so the actors change by a line each. Every
 * helper calls straight through when tracing is off, building no
 * attributes.
 *
 * Span names: `keypair.auth`, `keypair.rate_limit`, `keypair.admit`
 * (KeypairActor), `sessions.create` (SessionsActor), `scheduler.place`
 * (from the session's enqueue to its placement), and the session's own in
 * session/spans.ts.
 *
 * @module
 */

import {
  type SpanAttributes,
  TRACING,
  truncateId,
  withSpan,
} from "../telemetry/mod.ts";
import type { SessionRow } from "./services.ts";

export { currentTraceparent, inTrace, TRACING } from "../telemetry/mod.ts";

/** Attributes naming a session (its id, name, keypair, image, where it runs). */
export function sessionAttrs(row: SessionRow): SpanAttributes {
  return {
    "bai.session.id": row.id,
    "bai.session.name": row.name,
    "bai.access_key": truncateId(row.accessKey),
    "bai.image": row.image,
    "bai.scaling_group": row.scalingGroup,
    "bai.session.status": row.status,
    "bai.agent.id": row.agentId ?? undefined,
    "bai.kernel.id": row.kernelId ?? undefined,
  };
}

const KEYPAIR_SPANS: Record<string, string> = {
  auth: "keypair.auth",
  hit: "keypair.rate_limit",
  admit: "keypair.admit",
};

/**
 * The KeypairActor's handling of `msg` in a span (authentication, the rate
 * limit, admission); other messages run as they are.
 */
export function keypairSpan<T>(
  accessKey: string,
  msg: { type: string; sessionId?: string },
  fn: () => Promise<T>,
): Promise<T> {
  const name = TRACING ? KEYPAIR_SPANS[msg.type] : undefined;
  if (name === undefined) return fn();
  return withSpan(name, {
    "bai.access_key": truncateId(accessKey),
    "bai.session.id": msg.sessionId,
  }, async (span) => {
    const r = await fn();
    if (msg.type === "hit") {
      const v = r as { allowed?: boolean; remaining?: number };
      span.set({
        "bai.rate_limit.allowed": v?.allowed,
        "bai.rate_limit.remaining": v?.remaining,
      });
    } else if (msg.type === "auth") {
      span.set({ "bai.keypair.found": r !== undefined });
    }
    return r;
  });
}

/** The SessionsActor's create, in a span named for the request. */
export function createSpan<T>(
  accessKey: string,
  req: { name: string; image: string },
  fn: () => Promise<T>,
): Promise<T> {
  if (!TRACING) return fn();
  return withSpan("sessions.create", {
    "bai.access_key": truncateId(accessKey),
    "bai.session.name": req.name,
    "bai.image": req.image,
  }, async (span) => {
    const r = await fn();
    const id = (r as { sessionId?: unknown } | null)?.sessionId;
    if (typeof id === "string") span.set({ "bai.session.id": id });
    return r;
  });
}

/** Where a pending session's trace came from, kept with it in the queue. */
export interface PendingOrigin {
  traceparent: string;
  since: number;
}

/** The origin of an enqueue: the message's trace (undefined when tracing is off). */
export function pendingOrigin(
  traceparent: string | undefined,
): PendingOrigin | undefined {
  return TRACING && traceparent !== undefined
    ? { traceparent, since: Date.now() }
    : undefined;
}

/**
 * The scheduler's decision on a session, as a span from its enqueue to now
 * in the session's trace; `fn` (telling the session) runs inside it.
 */
export function placementSpan(
  origin: PendingOrigin | undefined,
  attrs: {
    sessionId: string;
    scalingGroup: string;
    agentId?: string;
    refused?: string;
  },
  fn: () => void,
): void {
  if (origin === undefined) return fn();
  withSpan("scheduler.place", {
    "bai.session.id": attrs.sessionId,
    "bai.scaling_group": attrs.scalingGroup,
    "bai.agent.id": attrs.agentId,
    "bai.scheduler.refused": attrs.refused,
  }, (span) => {
    if (attrs.refused) span.error(new Error(attrs.refused));
    fn();
  }, { parent: origin.traceparent, startTime: origin.since });
}
