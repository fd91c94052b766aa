/**
 * The manager's side of the gateway boundary (the port, port/mod.ts): each call
 * asks the actor that owns the answer. Long waits (a create waiting for
 * RUNNING, a long-poll) happen here, outside any mailbox.
 *
 * @module
 */

import {
  type ActorRef,
  AskTimeoutError,
  DeadLetterError,
} from "../runtime/types.ts";
import type {
  Caller,
  CreateSessionRequest,
  ExecuteResult,
  GatewayDeps,
  KeypairAuth,
  SessionEvent,
  SessionInfo,
  StreamFrame,
  StreamRun,
} from "./port/mod.ts";
import type { KernelMsg } from "../protocol/agent.ts";
import { DomainError, type ProblemName } from "./errors.ts";
import {
  type ImageResourceSpec,
  normalizeRequestedSlots,
} from "../../policies/slots.ts";
import type { KeypairMsg } from "./keypair.ts";
import type { Pending, SessionMsg } from "./session.ts";
import type { Resolved, SessionsMsg } from "./sessions.ts";
import type { Run } from "./run.ts";
import type { EventBus, SessionRow } from "./services.ts";

export interface GatewayWiring {
  version: string;
  keypair(accessKey: string): ActorRef<KeypairMsg>;
  sessions: ActorRef<SessionsMsg>;
  events: EventBus;
  resolveImage(name: string): string | undefined;
  /** Default and minimum slots of an image (from its recipe). */
  imageResources(name: string): ImageResourceSpec;
  admin: GatewayDeps["admin"];
}

/** Slots this cluster knows, with their units (`GET /config/resource-slots`). */
export const RESOURCE_SLOTS = {
  cpu: "count",
  mem: "bytes",
  "cuda.device": "count",
} as const;

/** Ask timeouts: actors answer quickly; waits happen on the Pending values. */
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

  const pending = async <T>(
    ref: ActorRef<SessionMsg>,
    msg: SessionMsg,
  ): Promise<T> => await (await ref.ask<Pending<T>>(msg, ASK)).wait;

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
      return await pending<T>(s, { type: "kernel", msg });
    } catch (err) {
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
        // Virtual folders are not built yet, so no name can exist: refuse
        // rather than start a session without the data it asked for.
        const folders = [
          ...req.config.mounts,
          ...Object.keys(req.config.mountMap),
        ];
        if (folders.length > 0) {
          throw new DomainError(
            "vfolder-not-found",
            `No such virtual folder: ${folders[0]}`,
            { folders },
          );
        }
        const image = w.resolveImage(req.image);
        if (!image) {
          throw new DomainError(
            "invalid-api-params",
            `Unknown image: ${req.image}`,
            { image: req.image },
          );
        }
        let resources: Record<string, number>;
        try {
          resources = normalizeRequestedSlots(
            req.config.resources,
            w.imageResources(req.image),
            {
              knownSlots: Object.keys(RESOURCE_SLOTS),
            },
          );
        } catch (e) {
          throw new DomainError(
            "invalid-api-params",
            e instanceof Error ? e.message : String(e),
          );
        }
        req = { ...req, config: { ...req.config, resources } };
        const res = await w.sessions.ask<
          {
            sessionId: string;
            sessionName: string;
            status: string;
            created: boolean;
            ref?: ActorRef<SessionMsg>;
          }
        >({
          type: "create",
          accessKey: caller.accessKey,
          req: { ...req, image },
        }, ASK);
        const { ref, ...reply } = res;
        let status = reply.status;
        if (ref && !req.enqueueOnly) {
          const timeoutMs = req.maxWaitSeconds > 0
            ? req.maxWaitSeconds * 1000
            : 0;
          status = await pending<string>(ref, {
            type: "wait-status",
            statuses: ["RUNNING"],
            timeoutMs,
          });
          if (status === "ERROR" || status === "CANCELLED") {
            const info = await ref.ask<SessionInfo>({ type: "info" }, ASK)
              .catch(() => undefined);
            // CANCELLED before it ran: no agent could ever host it (the
            // scheduler refused it) or it was destroyed while pending.
            throw new DomainError(
              status === "CANCELLED"
                ? "instance-not-available"
                : "kernel-creation-failed",
              info?.statusInfo ?? `session ended in ${status}`,
              {
                sessionId: reply.sessionId,
              },
            );
          }
        }
        return { ...reply, status, servicePorts: [] };
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
        return rowInfo(r.row);
      },
      async destroy(caller, ref, { forced }) {
        if (forced && !caller.isAdmin) {
          throw new DomainError(
            "insufficient-privilege",
            "forced destroy is admin-only",
          );
        }
        const s = await live(caller, ref);
        return await pending<{ stats: Record<string, unknown> }>(s, {
          type: "destroy",
          reason: forced ? "force-terminated" : "user-requested",
        });
      },
      async restart(caller, ref) {
        await pending<void>(await live(caller, ref), { type: "restart" });
      },
      async interrupt(caller, ref) {
        await pending<unknown>(await live(caller, ref), { type: "interrupt" });
      },
      async execute(caller, ref, req) {
        return await pending<ExecuteResult>(await live(caller, ref), {
          type: "execute",
          ...req,
        });
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
        const run = await s.ask<Run>({ type: "stream", ...req }, ASK);
        return streamOf(s, run);
      },
      events(caller, filter) {
        return Promise.resolve(eventStream(w.events, caller, filter));
      },
    }),
  };
}

/**
 * Runtime failures of an ask, said in the API's terms: the session actor
 * stopped between look-up and ask (its session just ended) is "no such
 * session"; an actor that did not answer in time is "unavailable". Other
 * errors pass unchanged.
 */
function answeringProblems<T extends object>(methods: T): T {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(methods)) {
    out[name] = typeof fn !== "function" ? fn : async (...args: unknown[]) => {
      try {
        return await fn.apply(methods, args);
      } catch (err) {
        if (err instanceof DeadLetterError) {
          throw new DomainError("object-not-found", "No such session.");
        }
        if (err instanceof AskTimeoutError) {
          throw new DomainError(
            "service-unavailable",
            "The session did not answer in time.",
          );
        }
        throw err;
      }
    };
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

function rowInfo(r: SessionRow): SessionInfo {
  return {
    sessionId: r.id,
    sessionName: r.name,
    lang: r.image,
    image: r.image,
    type: r.type,
    status: r.status,
    statusInfo: r.statusInfo,
    age: (r.terminatedAt ?? Date.now()) - r.createdAt,
    creationTime: new Date(r.createdAt).toISOString(),
    terminationTime: r.terminatedAt
      ? new Date(r.terminatedAt).toISOString()
      : null,
    occupiedSlots: r.occupiedSlots,
    numQueriesExecuted: r.numQueries,
    lastStat: r.lastStat,
  };
}

/** Frames of a streamed run, coalesced every FLUSH_MS. */
function streamOf(session: ActorRef<SessionMsg>, run: Run): StreamRun {
  async function* frames(): AsyncGenerator<StreamFrame> {
    let askedInput = false;
    while (true) {
      await run.wait(FLUSH_MS);
      const r = run.take();
      // While the program waits for input, `wait` resolves at once and
      // `take` keeps answering waiting-input: report it once, then poll on
      // the clock (a microtask-only loop would starve the event loop, and
      // with it the input frame that would end the wait).
      const repeat = r.status === "waiting-input" && askedInput;
      askedInput = r.status === "waiting-input";
      if (r.console.length === 0 && (r.status === "continued" || repeat)) {
        await new Promise((res) => setTimeout(res, FLUSH_MS));
        continue;
      }
      yield {
        status: r.status,
        console: r.console,
        exitCode: r.exitCode,
        options: r.options,
        files: r.files,
      };
      if (r.status === "finished" || r.status === "exec-timeout") return;
    }
  }
  return {
    frames: frames(),
    sendInput: async (line) => {
      await session.ask({ type: "input", runId: run.runId, text: line }, ASK);
    },
    interrupt: async () => {
      if (!run.final) {
        await (await session.ask<Pending<unknown>>({ type: "interrupt" }, ASK))
          .wait;
      }
    },
  };
}

async function* eventStream(
  bus: EventBus,
  caller: Caller,
  filter: { name?: string; sessionId?: string },
): AsyncGenerator<SessionEvent> {
  const queue: SessionEvent[] = [];
  let wake: (() => void) | undefined;
  const off = bus.subscribe((e) => {
    const d = e.data as {
      sessionName?: string;
      sessionId?: string;
      accessKey?: string;
    };
    if (filter.name && d.sessionName !== filter.name) return;
    if (filter.sessionId && d.sessionId !== filter.sessionId) return;
    if (!caller.isAdmin && d.accessKey && d.accessKey !== caller.accessKey) {
      return;
    }
    queue.push(e);
    wake?.();
  });
  try {
    while (true) {
      while (queue.length) yield queue.shift()!;
      await new Promise<void>((r) => (wake = r));
    }
  } finally {
    off();
  }
}

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

function fromBase64(b64: string): Uint8Array<ArrayBuffer> {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
