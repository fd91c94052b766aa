/**
 * Session lifecycle events as server-sent events (`GET /events/session`).
 * The manager's iterable is opened before the reply, so an unknown session
 * is an ordinary 404 problem; afterwards each event becomes
 * `event: NAME\ndata: JSON\n\n`, and a client that disconnects stops the
 * iteration (the manager's `return()` runs).
 *
 * @module
 */
import type { Hono } from "hono";
import { requireAuth } from "./auth.ts";
import { callerOf } from "./caller.ts";
import type { GatewayEnv } from "./context.ts";
import type { GatewayDeps, SessionEvent } from "../actors/manager/port/mod.ts";
import {
  ownerAccessKeyOf,
  queryParams,
  rawParams,
  withoutNulls,
} from "./params.ts";
import { InvalidApiParams } from "./problems.ts";

const encoder = new TextEncoder();

/** Encodes one event in the SSE wire format. */
export function sseChunk(e: SessionEvent): Uint8Array {
  const name = e.event.replace(/[\r\n]/g, "");
  return encoder.encode(`event: ${name}\ndata: ${JSON.stringify(e.data)}\n\n`);
}

/** A byte stream of events that stops the source when the client cancels. */
export function sseStream(
  events: AsyncIterable<SessionEvent>,
): ReadableStream<Uint8Array> {
  const it = events[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      const { value, done } = await it.next();
      if (done) ctrl.close();
      else ctrl.enqueue(sseChunk(value));
    },
    async cancel() {
      await it.return?.();
    },
  });
}

/** Mounts `GET /events/session`. */
export function mountEvents(app: Hono<GatewayEnv>, deps: GatewayDeps): void {
  app.get("/events/session", requireAuth(), async (c) => {
    const params = withoutNulls({
      ...queryParams(c),
      ...rawParams(c),
    }) as Record<
      string,
      unknown
    >;
    const name = params.name ?? params.sessionName ?? params.session_name;
    const sessionId = params.sessionId ?? params.session_id;
    if (name !== undefined && typeof name !== "string") {
      throw new InvalidApiParams("name must be a string");
    }
    if (sessionId !== undefined && typeof sessionId !== "string") {
      throw new InvalidApiParams("sessionId must be a string");
    }
    const caller = callerOf(c, ownerAccessKeyOf(params));
    const events = await deps.sessions.events(caller, { name, sessionId });
    return c.body(sseStream(events), 200, {
      "Content-Type": "text/event-stream",
      "Cache-Control": "no-cache",
    });
  });
}
