/**
 * The manager's side of {@link ChannelDeps} (port/channels.ts): opening a
 * channel resolves the session within the caller's keypair, holds it
 * (session/suspend.ts: a SUSPENDED session resumes, and it does not idle
 * while the channel is open), spawns the channel's actor (actor.ts) and
 * asks the kernel to open the channel with that actor as its owner. Bytes
 * then flow between the kernel and the pipe (pipe.ts) without passing the
 * session actor's mailbox.
 *
 * @module
 */

import {
  type ActorRef,
  AskTimeoutError,
  DeadLetterError,
} from "../../runtime/types.ts";
import type { KernelMsg } from "../../protocol/agent.ts";
import type { ChannelEvent } from "../../protocol/manager.ts";
import {
  appBaseUrl,
  type AppGrant,
  type ChannelDeps,
  type ChannelRequest,
} from "../port/channels.ts";
import type { Caller, SessionInfo } from "../port/mod.ts";
import { asProblems, DomainError } from "../errors.ts";
import type { SessionMsg } from "../session/actor.ts";
import type { Resolved, SessionsMsg } from "../session/sessions.ts";
import type { ChannelsMsg } from "./actor.ts";
import { ChannelPipe, type OpenedInfo } from "./pipe.ts";
import { appListing, routeToPort, servicePortsOf } from "./service_ports.ts";
import {
  AppTokens,
  COOKIE_TOKEN_TTL_S,
  LINK_TOKEN_TTL_S,
  MAX_LINK_TOKEN_TTL_S,
} from "./app_token.ts";

/** What {@link createChannelDeps} needs. */
export interface ChannelWiring {
  sessions: ActorRef<SessionsMsg>;
  /** The channel actors' parent (actor.ts). */
  channels: ActorRef<ChannelsMsg>;
  kernelRef(agentId: string, kernelId: string): ActorRef<KernelMsg>;
  /** Keys the app proxy tokens (the cluster secret). */
  secret: string;
}

const ASK = { timeoutMs: 15_000 };
/** A hold resumes a SUSPENDED session: seconds at most (activity.ts). */
const RESUME = { timeoutMs: 60_000 };
/** An app may take its runner's 60 s to start listening. */
const APP_OPEN_MS = 75_000;
const OPEN_MS = 15_000;
/** Output credit per channel: a terminal needs little, a tunnel wants throughput. */
const PTY_WINDOW = 256 << 10;
const STREAM_WINDOW = 2 << 20;

export function createChannelDeps(w: ChannelWiring): ChannelDeps {
  const tokens = new AppTokens(w.secret);

  const live = async (caller: Caller, ref: string) => {
    const r = await w.sessions.ask<Resolved>({
      type: "resolve",
      accessKey: caller.accessKey,
      ref,
      includeEnded: false,
    }, ASK);
    if (!r.live) throw new DomainError("object-not-found", "No such session.");
    return r.ref;
  };
  const info = (s: ActorRef<SessionMsg>) =>
    s.ask<SessionInfo>({ type: "info" }, ASK);

  /** What to open in the kernel for `req`, checked against the session's ports. */
  const target = (i: SessionInfo, req: ChannelRequest) => {
    if (req.kind === "pty") {
      return {
        kind: "pty" as const,
        rows: req.rows,
        cols: req.cols,
        env: req.env,
      };
    }
    const route = routeToPort(i.image, portsOf(i), req.app, req.port);
    if (route === undefined) {
      throw new DomainError(
        "object-not-found",
        `The session has no app "${req.app}".`,
      );
    }
    if (route === "no-such-port") {
      throw new DomainError(
        "invalid-api-params",
        `App ${req.app} does not open port ${req.port}.`,
      );
    }
    if (route.protocol === "pty") {
      throw new DomainError(
        "generic-bad-request",
        `App ${req.app} is a terminal; open it with /pty.`,
      );
    }
    return route.kind === "app"
      ? {
        kind: "app" as const,
        app: route.app,
        baseUrl: appBaseUrl(i.sessionId, route.app),
      }
      : { kind: "tcp" as const, port: route.port };
  };

  const deps: ChannelDeps = {
    open: (caller, ref, req) =>
      asProblems(async () => {
        const s = await live(caller, ref);
        const what = target(await info(s), req);
        const channelId = crypto.randomUUID();
        const holder = `${req.kind === "pty" ? "pty" : "app"}:${channelId}`;
        try {
          await s.ask({ type: "hold", holder }, RESUME);
        } catch (err) {
          s.tell({ type: "unhold", holder });
          throw err;
        }
        const unhold = () => s.tell({ type: "unhold", holder });
        let pipe: ChannelPipe | undefined;
        try {
          const now = await info(s);
          if (now.status !== "RUNNING" || !now.agentId || !now.kernelId) {
            throw new DomainError(
              "generic-bad-request",
              `The session is ${now.status}, not RUNNING.`,
            );
          }
          const kernel = w.kernelRef(String(now.agentId), String(now.kernelId));
          const window = what.kind === "pty" ? PTY_WINDOW : STREAM_WINDOW;
          pipe = new ChannelPipe(kernel, {
            channelId,
            kind: what.kind,
            sessionId: now.sessionId,
            window,
          });
          const p = pipe;
          void p.closed.then(unhold);
          const owner = await w.channels.ask<ActorRef<ChannelEvent>>(
            { type: "spawn", pipe, kernel },
            ASK,
          );
          const opened = await kernel.ask<OpenedInfo>({
            type: "channel.open",
            channelId,
            owner,
            window,
            ...what,
          }, { timeoutMs: what.kind === "app" ? APP_OPEN_MS : OPEN_MS });
          pipe.opened(opened);
          return pipe;
        } catch (err) {
          // Also stops an open still going on in the kernel (a timed-out app start).
          if (pipe) pipe.abort(`open failed: ${errorText(err)}`);
          else unhold();
          throw openProblem(err);
        }
      }),

    apps: (caller, ref) =>
      asProblems(async () => {
        const i = await info(await live(caller, ref));
        return appListing(portsOf(i), (app) => appBaseUrl(i.sessionId, app));
      }),

    issueAppToken: (caller, ref, app, ttlSeconds) =>
      asProblems(async () => {
        const i = await info(await live(caller, ref));
        target(i, { kind: "app", app }); // refuses unknown apps and terminals
        const ttl = ttlSeconds ?? LINK_TOKEN_TTL_S;
        if (!(ttl >= 1 && ttl <= MAX_LINK_TOKEN_TTL_S)) {
          throw new DomainError(
            "invalid-api-params",
            `ttl must be 1 to ${MAX_LINK_TOKEN_TTL_S} seconds.`,
          );
        }
        const grant: AppGrant = {
          accessKey: caller.accessKey,
          sessionId: i.sessionId,
          app,
          expiresAt: Date.now() + Math.round(ttl * 1000),
          use: "url",
        };
        return {
          token: tokens.sign(grant),
          sessionId: i.sessionId,
          app,
          expiresAt: grant.expiresAt,
        };
      }),

    verifyAppToken: (token, now) => tokens.verify(token, now),

    cookieToken(grant) {
      return {
        token: tokens.sign({
          ...grant,
          use: "cookie",
          expiresAt: Date.now() + COOKIE_TOKEN_TTL_S * 1000,
        }),
        maxAgeSeconds: COOKIE_TOKEN_TTL_S,
      };
    },
  };
  return deps;
}

/** The session's service ports from its info (lifecycle.ts fills them in). */
function portsOf(i: SessionInfo) {
  return Array.isArray(i.servicePorts)
    ? (i.servicePorts as ReturnType<typeof servicePortsOf>)
    : servicePortsOf(i.image);
}

/** A refused or failed open, as the API says it. */
function openProblem(err: unknown): unknown {
  if (err instanceof DomainError) return err;
  if (err instanceof Error && err.name === "KernelRequestError") {
    // The runner's words: nothing listens, unknown app, the app failed.
    return new DomainError("service-unavailable", err.message);
  }
  if (err instanceof AskTimeoutError) {
    return new DomainError(
      "service-unavailable",
      "The kernel did not open the channel in time.",
    );
  }
  if (err instanceof DeadLetterError) {
    return new DomainError(
      "service-unavailable",
      "The session's kernel is gone.",
    );
  }
  return err;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
