/**
 * The manager's side of the gateway boundary (the port, port/mod.ts): each call
 * asks the actor that owns the answer. Long waits (a create waiting for
 * RUNNING, a long-poll) happen here, outside any mailbox.
 *
 * @module
 */

import type { ActorRef } from "../runtime/types.ts";
import type {
  Caller,
  CreateSessionRequest,
  CreateSessionResult,
  ExecuteResult,
  GatewayDeps,
  KeypairAuth,
  SessionEvent,
  SessionInfo,
  StreamFrame,
  StreamRun,
} from "./port/mod.ts";
import type { KernelMsg } from "../protocol/agent.ts";
import { asProblems, DomainError, type ProblemName } from "./errors.ts";
import { toSessionInfo } from "./lifecycle.ts";
import type { KeypairMsg } from "./keypair.ts";
import { POLL_MS, type SessionMsg } from "./session/actor.ts";
import { DEFAULT_MAX_WAIT_SECONDS, RESOURCE_SLOTS } from "./session/create.ts";
import type { Resolved, SessionsMsg } from "./session/sessions.ts";
import type { EventBus } from "./services.ts";
import { fromBase64, toBase64 } from "../protocol/base64.ts";

export interface GatewayWiring {
  version: string;
  keypair(accessKey: string): ActorRef<KeypairMsg>;
  sessions: ActorRef<SessionsMsg>;
  events: EventBus;
  admin: GatewayDeps["admin"];
}

/** Ask timeout of calls the actor answers at once. */
const ASK = { timeoutMs: 15_000 };
/** Streaming flush interval (API.md: ≤ 0.2 s). */
const FLUSH_MS = 100;

export function createGatewayDeps(w: GatewayWiring): GatewayDeps {
  const resolve = (
    caller: Caller,
    ref: string,
    includeEnded = false,
    fresh = false,
  ) =>
    w.sessions.ask<Resolved>({
      type: "resolve",
      accessKey: caller.accessKey,
      ref,
      includeEnded,
      fresh,
    }, ASK);

  const live = async (
    caller: Caller,
    ref: string,
  ): Promise<ActorRef<SessionMsg>> => {
    const r = await resolve(caller, ref);
    if (!r.live) throw new DomainError("object-not-found", "No such session.");
    return r.ref;
  };

  /**
   * A request to the session's kernel. The runner refusing it (a missing
   * file, a bad path) is the caller's mistake, answered as a 4xx problem:
   * `notFound` for reads, invalid-api-params otherwise.
   */
  const kernel = async <T>(
    caller: Caller,
    ref: string,
    msg: KernelMsg,
    refused: ProblemName = "invalid-api-params",
  ): Promise<T> => {
    const s = await live(caller, ref);
    try {
      return await s.ask<T>({ type: "kernel", msg }, { timeoutMs: 45_000 });
    } catch (err) {
      if (err instanceof Error && err.name === "KernelStorageFullError") {
        throw new DomainError(
          "insufficient-storage",
          `The session's disk is full: ${err.message}`,
        );
      }
      if (isKernelRequestError(err)) {
        throw new DomainError(refused, err.message);
      }
      throw err;
    }
  };

  return {
    version: w.version,
    resourceSlots: () => Promise.resolve({ ...RESOURCE_SLOTS }),
    keypairs: {
      lookup: (ak) =>
        w.keypair(ak).ask<KeypairAuth | undefined>({ type: "auth" }, ASK),
      hit: (ak, limit, now) =>
        w.keypair(ak).ask({ type: "hit", limit, now }, ASK),
    },
    admin: w.admin,
    sessions: answeringProblems({
      async create(caller, req: CreateSessionRequest) {
        const wait = req.enqueueOnly
          ? 0
          : (req.maxWaitSeconds > 0
            ? req.maxWaitSeconds
            : DEFAULT_MAX_WAIT_SECONDS) * 1000;
        return await w.sessions.ask<CreateSessionResult>(
          { type: "create", caller, req },
          { timeoutMs: wait + 30_000 },
        );
      },
      async get(caller, ref) {
        let r = await resolve(caller, ref, true);
        if (r.live) {
          try {
            return await r.ref.ask<SessionInfo>({ type: "info" }, ASK);
          } catch {
            // The actor ended between resolve and info: its row is stored
            // (the end is persisted before the actor stops).
            r = await resolve(caller, ref, true, true);
            if (r.live) {
              return await r.ref.ask<SessionInfo>({ type: "info" }, ASK);
            }
          }
        }
        return toSessionInfo(r.row, Date.now());
      },
      async destroy(caller, ref, { forced }) {
        if (forced && !caller.isAdmin) {
          throw new DomainError(
            "insufficient-privilege",
            "forced destroy is admin-only",
          );
        }
        const s = await live(caller, ref);
        return await s.ask<{ stats: Record<string, unknown> }>({
          type: "destroy",
          reason: forced ? "force-terminated" : "user-requested",
        }, { timeoutMs: 120_000 });
      },
      async restart(caller, ref) {
        await (await live(caller, ref)).ask({ type: "restart" }, {
          timeoutMs: 180_000,
        });
      },
      async interrupt(caller, ref) {
        await (await live(caller, ref)).ask({ type: "interrupt" }, {
          timeoutMs: 45_000,
        });
      },
      async execute(caller, ref, req) {
        return await (await live(caller, ref)).ask<ExecuteResult>({
          type: "execute",
          ...req,
        }, { timeoutMs: POLL_MS + ASK.timeoutMs });
      },
      async complete(caller, ref, req) {
        const res = await kernel<{ items?: string[] }>(caller, ref, {
          type: "complete",
          code: req.code,
          opts: req.options,
        });
        return { result: res?.items ?? [] };
      },
      async upload(caller, ref, files) {
        for (const f of files) {
          const data = new Uint8Array(await f.arrayBuffer());
          await kernel(caller, ref, {
            type: "put",
            path: f.name,
            data: toBase64(data),
          });
        }
      },
      async download(caller, ref, paths) {
        if (paths.length !== 1) {
          throw new DomainError(
            "invalid-api-params",
            "Download one file at a time.",
          );
        }
        const res = await kernel<{ data: string }>(caller, ref, {
          type: "get",
          path: paths[0],
        }, "object-not-found");
        return {
          contentType: "application/octet-stream",
          body: fromBase64(res.data),
        };
      },
      async logs(caller, ref) {
        // Within the caller's keypair, ended sessions too (their log may remain).
        const r = await resolve(caller, ref, true);
        const id = r.live
          ? (await r.ref.ask<SessionInfo>({ type: "info" }, ASK)).sessionId
          : r.row.id;
        return await w.admin.kernelLogs(id);
      },
      async listFiles(caller, ref, path) {
        const res = await kernel<{ items: unknown[] }>(caller, ref, {
          type: "list",
          path: path || ".",
        }, "object-not-found");
        return {
          files: JSON.stringify(res.items ?? []),
          abspath: path,
          errors: "",
        };
      },
      async streamExecute(caller, ref, req) {
        const s = await live(caller, ref);
        const { runId } = await s.ask<{ runId: string }>({
          type: "stream",
          ...req,
        }, ASK);
        return streamOf(s, runId);
      },
      events(caller, filter) {
        return Promise.resolve(eventStream(w.events, caller, filter));
      },
    }),
  };
}

/** `methods`, each answering runtime failures of its asks in the API's terms ({@link asProblems}). */
function answeringProblems<T extends object>(methods: T): T {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(methods)) {
    out[name] = typeof fn !== "function"
      ? fn
      : (...args: unknown[]) => asProblems(() => fn.apply(methods, args));
  }
  return out as T;
}

/**
 * The runner refused a request (agent kernel/errors.ts `KernelRequestError`);
 * across nodes it arrives as a RemoteError carrying that name.
 */
function isKernelRequestError(err: unknown): err is Error {
  return err instanceof Error && err.name === "KernelRequestError";
}

/**
 * Frames of a streamed run: eager `continue` polls (each answers a few ms
 * after output arrives, at once when the run stops, or after FLUSH_MS with
 * nothing), so output flows as it comes; the same asks work across nodes.
 */
function streamOf(session: ActorRef<SessionMsg>, runId: string): StreamRun {
  let done = false;
  async function* frames(): AsyncGenerator<StreamFrame> {
    let askedInput = false;
    while (true) {
      const r = await session.ask<ExecuteResult>({
        type: "execute",
        mode: "continue",
        code: "",
        runId,
        options: {},
        waitMs: FLUSH_MS,
        eager: true,
      }, { timeoutMs: FLUSH_MS + ASK.timeoutMs });
      // While the program waits for input, each poll answers waiting-input
      // at once: report it once, then poll on the clock (a loop without
      // delay would starve the event loop, and with it the input frame that
      // would end the wait).
      const repeat = r.status === "waiting-input" && askedInput;
      askedInput = r.status === "waiting-input";
      if (r.console.length === 0 && (r.status === "continued" || repeat)) {
        if (repeat) await new Promise((res) => setTimeout(res, FLUSH_MS));
        continue;
      }
      yield {
        status: r.status,
        console: r.console,
        exitCode: r.exitCode,
        options: r.options,
        files: r.files,
      };
      if (r.status === "finished" || r.status === "exec-timeout") {
        done = true;
        return;
      }
    }
  }
  return {
    frames: frames(),
    sendInput: async (line) => {
      await session.ask({ type: "input", runId, text: line }, ASK);
    },
    interrupt: async () => {
      if (!done) {
        await session.ask({ type: "interrupt" }, { timeoutMs: 45_000 });
      }
    },
  };
}

/** Events a slow consumer may fall behind by; older ones are dropped. */
const MAX_QUEUED_EVENTS = 1_000;

/**
 * The caller's lifecycle events as an async iterable. Written as an
 * iterator, not a generator: a generator waiting for the next event cannot
 * be ended, so a client that left would keep its subscription until some
 * later event; here `return()` ends the subscription at once.
 */
function eventStream(
  bus: EventBus,
  caller: Caller,
  filter: { name?: string; sessionId?: string },
): AsyncIterable<SessionEvent> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<SessionEvent> {
      const queue: SessionEvent[] = [];
      let wake: (() => void) | undefined;
      let ended = false;
      const off = bus.subscribe((e) => {
        const d = e.data as {
          sessionName?: string;
          sessionId?: string;
          accessKey?: string;
        };
        if (filter.name && d.sessionName !== filter.name) return;
        if (filter.sessionId && d.sessionId !== filter.sessionId) return;
        if (
          !caller.isAdmin && d.accessKey && d.accessKey !== caller.accessKey
        ) {
          return;
        }
        if (queue.length >= MAX_QUEUED_EVENTS) queue.shift();
        queue.push(e);
        wake?.();
      });
      const end = (): IteratorReturnResult<undefined> => {
        if (!ended) {
          ended = true;
          off();
          wake?.();
        }
        return { value: undefined, done: true };
      };
      return {
        async next() {
          while (!ended) {
            if (queue.length) return { value: queue.shift()!, done: false };
            await new Promise<void>((r) => (wake = r));
            wake = undefined;
          }
          return { value: undefined, done: true };
        },
        return: () => Promise.resolve(end()),
      };
    },
  };
}
