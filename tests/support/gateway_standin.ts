/**
 * An in-memory stand-in for the manager's actors behind `GatewayDeps`, used
 * by the gateway tests and benchmark to exercise the HTTP edge alone. The
 * real keypair / session actors have their own tests; this only mimics their
 * observable contract closely enough (reuse rules, ref matching, typed
 * failures) to check the wire format.
 *
 * Hooks for tests:
 * - a session ref `problem-NAME` makes every session call throw that problem;
 *   `duck-NAME` throws a plain Error carrying `problemType` instead;
 *   `crash` throws an unexpected Error (→ 500).
 * - query code containing `input(` answers `waiting-input` first; code
 *   `slow` answers `continued` first.
 *
 * @module
 */
import type {
  AdminDeps,
  Caller,
  CreateSessionRequest,
  CreateSessionResult,
  ExecuteRequest,
  ExecuteResult,
  GatewayDeps,
  KeypairAuth,
  SessionEvent,
  SessionInfo,
  StreamExecuteRequest,
  StreamFrame,
  StreamRun,
} from "../../actors/manager/port/mod.ts";
import {
  ObjectNotFound,
  ProblemError,
  PROBLEMS,
  type ProblemType,
  SessionAlreadyExists,
  TooManySessionsMatched,
} from "../../routes/problems.ts";

/** Backend.AI's well-known example keypair (a user). */
export const USER = {
  accessKey: "AKIAIOSFODNN7EXAMPLE",
  secretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
};
/** An admin keypair. */
export const ADMIN = {
  accessKey: "AKIAADMINEXAMPLE0001",
  secretKey: "AdminSecretKeyExampleAdminSecretKeyExamp",
};
/** A keypair with `rateLimit: 3`. */
export const LIMITED = {
  accessKey: "AKIALIMITEDEXAMPLE01",
  secretKey: "LimitedSecretKeyExampleLimitedSecretKeyE",
};
/** A deactivated keypair. */
export const INACTIVE = {
  accessKey: "AKIAINACTIVEEXAMPLE1",
  secretKey: "InactiveSecretKeyExampleInactiveSecretKe",
};

interface StoredSession {
  info: SessionInfo;
  owner: string;
  files: Map<string, Uint8Array<ArrayBuffer>>;
  runs: Map<string, number>;
}

const ENDED = new Set(["TERMINATED", "CANCELLED"]);

/** What tests can inspect after calls. */
export interface StandIn {
  deps: GatewayDeps;
  sessions: Map<string, StoredSession>;
  /** Inputs received by streamed runs. */
  inputs: string[];
  /** Set when a streamed run was interrupted. */
  interrupted: string[];
  /** Events pushed to `GET /events/session` listeners. */
  emit(e: SessionEvent): void;
  /** True once every events iterator has been closed. */
  eventListeners(): number;
}

function maybeProblem(ref: string): void {
  if (ref.startsWith("problem-")) {
    const name = ref.slice("problem-".length);
    if (Object.hasOwn(PROBLEMS, name)) {
      throw new ProblemError(name as ProblemType, { msg: `stand-in ${name}` });
    }
  }
  if (ref.startsWith("duck-")) {
    const err = Object.assign(new Error("duck"), {
      problemType: ref.slice(5),
      problemMsg: "duck-typed",
    });
    throw err;
  }
  if (ref === "crash") throw new Error("secret internal detail");
}

/** Creates a fresh stand-in. */
export function createStandIn(): StandIn {
  const keypairs = new Map<string, KeypairAuth>([
    [USER.accessKey, {
      ...USER,
      isActive: true,
      isAdmin: false,
      resourcePolicy: "default",
    }],
    [ADMIN.accessKey, {
      ...ADMIN,
      isActive: true,
      isAdmin: true,
      resourcePolicy: "default",
    }],
    [LIMITED.accessKey, {
      ...LIMITED,
      isActive: true,
      isAdmin: false,
      rateLimit: 3,
      resourcePolicy: "default",
    }],
    [INACTIVE.accessKey, {
      ...INACTIVE,
      isActive: false,
      isAdmin: false,
      resourcePolicy: "default",
    }],
  ]);
  const hits = new Map<string, { times: number[]; head: number }>();
  const sessions = new Map<string, StoredSession>();
  const inputs: string[] = [];
  const interrupted: string[] = [];
  const listeners = new Set<(e: SessionEvent | null) => void>();

  const resolve = (
    caller: Caller,
    ref: string,
    includeEnded = false,
  ): StoredSession => {
    maybeProblem(ref);
    const mine = [...sessions.values()].filter((s) =>
      s.owner === caller.accessKey &&
      (includeEnded || !ENDED.has(s.info.status))
    );
    const exact = mine.filter((s) => s.info.sessionName === ref);
    if (exact.length === 1) return exact[0];
    const prefix = mine.filter((s) =>
      s.info.sessionId.startsWith(ref) || s.info.sessionName.startsWith(ref)
    );
    if (prefix.length === 1) return prefix[0];
    if (prefix.length > 1) {
      throw new TooManySessionsMatched(prefix.map((s) => s.info.sessionId));
    }
    throw new ObjectNotFound("session");
  };

  const runQuery = (s: StoredSession, req: ExecuteRequest): ExecuteResult => {
    s.info.numQueriesExecuted++;
    const base = { runId: req.runId, files: [], options: null };
    if (req.mode === "input") {
      return {
        ...base,
        status: "finished",
        exitCode: 0,
        console: [["stdout", `got ${req.code}\n`]],
      };
    }
    if (req.mode === "continue") {
      return {
        ...base,
        status: "finished",
        exitCode: 0,
        console: [["stdout", "rest\n"]],
      };
    }
    if (req.code.includes("input(")) {
      return {
        ...base,
        status: "waiting-input",
        exitCode: null,
        console: [],
        options: { is_password: false },
      };
    }
    if (req.code === "slow") {
      return {
        ...base,
        status: "continued",
        exitCode: null,
        console: [["stdout", "part\n"]],
      };
    }
    if (req.code.includes("raise")) {
      return {
        ...base,
        status: "finished",
        exitCode: 1,
        console: [["stderr", "Trace"], ["stderr", "back\n"]],
      };
    }
    return {
      ...base,
      status: "finished",
      exitCode: 0,
      console: [["stdout", "echo:"], ["stdout", req.code]],
    };
  };

  const admin: AdminDeps = {
    createKeypair(req) {
      const accessKey = "AKIA" +
        crypto.randomUUID().replace(/-/g, "").slice(0, 16).toUpperCase();
      const secretKey = crypto.randomUUID().replace(/-/g, "") + "abcdefgh";
      keypairs.set(accessKey, {
        accessKey,
        secretKey,
        isActive: true,
        isAdmin: req.isAdmin,
        rateLimit: req.rateLimit,
        resourcePolicy: req.resourcePolicy,
        userId: req.userId,
      });
      return Promise.resolve({ accessKey, secretKey });
    },
    listKeypairs: () =>
      Promise.resolve(
        [...keypairs.values()].map(({ secretKey: _, ...view }) => view),
      ),
    deactivateKeypair(ak) {
      const kp = keypairs.get(ak);
      if (!kp) throw new ObjectNotFound("keypair");
      kp.isActive = false;
      return Promise.resolve();
    },
    deleteKeypair(ak) {
      if (!keypairs.delete(ak)) throw new ObjectNotFound("keypair");
      return Promise.resolve();
    },
    listResourcePolicies: () => Promise.resolve([{ name: "default" }]),
    putResourcePolicy: (name, p) => Promise.resolve({ name, ...p }),
    deleteResourcePolicy: () => Promise.resolve(),
    listScalingGroups: () =>
      Promise.resolve([{ name: "default", isActive: true, scheduler: "fifo" }]),
    putScalingGroup: (name, g) => Promise.resolve({ name, ...g }),
    listAgents: () => Promise.resolve([{ id: "i-local", status: "ALIVE" }]),
    getAgent: (id) => {
      if (id !== "i-local") throw new ObjectNotFound("agent");
      return Promise.resolve({ id, status: "ALIVE" });
    },
    listSessions: (f) => {
      const all = [...sessions.values()].filter((s) =>
        (!f.accessKey || s.owner === f.accessKey) &&
        (!f.status || f.status.includes(s.info.status))
      ).map((s) => ({ ...s.info, ...rowOf(s.info), accessKey: s.owner }));
      return Promise.resolve({
        sessions: all.slice(f.offset, f.offset + f.limit),
        total: all.length,
      });
    },
    listImages: () => Promise.resolve([{ name: "python:3.11", labels: {} }]),
    getSession: (id) => {
      const s = [...sessions.values()].find((x) => x.info.sessionId === id);
      return Promise.resolve(
        s ? { ...rowOf(s.info), accessKey: s.owner } : undefined,
      );
    },
    modifyKeypair(ak, patch) {
      const kp = keypairs.get(ak);
      if (!kp) throw new ObjectNotFound("keypair");
      Object.assign(
        kp,
        Object.fromEntries(
          Object.entries(patch).filter(([, v]) => v !== undefined),
        ),
      );
      return Promise.resolve();
    },
    kernelLogs: (id) => Promise.resolve(`log of ${id}\n`),
    // Scheduling and scaling: one local agent, no queue, no autoscaler.
    setAgentDraining: (id, draining) => {
      if (id !== "i-local") throw new ObjectNotFound("agent");
      return Promise.resolve({ id, status: "ALIVE", schedulable: !draining });
    },
    stopAgent: () => Promise.resolve(),
    pendingSessions: () => Promise.resolve([]),
    setScheduler: (name, scheduler) => Promise.resolve({ name, scheduler }),
    getAutoscaler: () => Promise.resolve({ config: {}, status: null }),
    putAutoscaler: (_name, config) => Promise.resolve({ config }),
  };

  const deps: GatewayDeps = {
    version: "standin-0.1",
    resourceSlots: () =>
      Promise.resolve({ cpu: "count", mem: "bytes", "cuda.device": "count" }),
    keypairs: {
      lookup: (ak) => Promise.resolve(keypairs.get(ak)),
      hit(ak, limit, now) {
        // Sorted timestamps; expired ones are dropped from the front (O(1) amortised).
        let w = hits.get(ak);
        if (!w) hits.set(ak, w = { times: [], head: 0 });
        while (w.head < w.times.length && w.times[w.head] <= now - 900_000) {
          w.head++;
        }
        if (w.head > 1024 && w.head * 2 > w.times.length) {
          w.times = w.times.slice(w.head);
          w.head = 0;
        }
        const inWindow = w.times.length - w.head;
        if (inWindow >= limit) {
          return Promise.resolve({ allowed: false, remaining: 0 });
        }
        w.times.push(now);
        return Promise.resolve({
          allowed: true,
          remaining: limit - inWindow - 1,
        });
      },
    },
    sessions: {
      create(
        caller: Caller,
        req: CreateSessionRequest,
      ): Promise<CreateSessionResult> {
        maybeProblem(req.name);
        const existing = [...sessions.values()].find((s) =>
          s.owner === caller.accessKey && s.info.sessionName === req.name &&
          !ENDED.has(s.info.status)
        );
        if (existing) {
          if (existing.info.image !== req.image || !req.reuseIfExists) {
            throw new SessionAlreadyExists(existing.info.sessionId);
          }
          const { sessionId, sessionName, status } = existing.info;
          return Promise.resolve({
            sessionId,
            sessionName,
            status,
            servicePorts: [],
            created: false,
          });
        }
        const sessionId = crypto.randomUUID();
        const info: SessionInfo = {
          sessionId,
          sessionName: req.name,
          lang: req.image,
          image: req.image,
          status: req.enqueueOnly ? "PENDING" : "RUNNING",
          statusInfo: null,
          age: 0,
          creationTime: new Date().toISOString(),
          terminationTime: null,
          occupiedSlots: req.config.resources,
          numQueriesExecuted: 0,
          lastStat: null,
          type: req.type,
        };
        sessions.set(sessionId, {
          info,
          owner: caller.accessKey,
          files: new Map(),
          runs: new Map(),
        });
        return Promise.resolve({
          sessionId,
          sessionName: req.name,
          status: info.status,
          servicePorts: [],
          created: true,
        });
      },
      get: (caller, ref) => Promise.resolve(resolve(caller, ref, true).info),
      destroy(caller, ref, { forced }) {
        const s = resolve(caller, ref);
        s.info.status = "TERMINATED";
        s.info.terminationTime = new Date().toISOString();
        return Promise.resolve({
          stats: { forced, numQueriesExecuted: s.info.numQueriesExecuted },
        });
      },
      restart(caller, ref) {
        resolve(caller, ref).info.statusInfo = "restarted";
        return Promise.resolve();
      },
      interrupt(caller, ref) {
        resolve(caller, ref).info.statusInfo = "interrupted";
        return Promise.resolve();
      },
      execute: (caller, ref, req) =>
        Promise.resolve(runQuery(resolve(caller, ref), req)),
      complete: (caller, ref, req) => {
        resolve(caller, ref);
        return Promise.resolve({
          status: "finished",
          completions: [req.code + "_done"],
        });
      },
      async upload(caller, ref, files) {
        const s = resolve(caller, ref);
        for (const f of files) {
          s.files.set(f.name, new Uint8Array(await f.arrayBuffer()));
        }
      },
      download(caller, ref, paths) {
        const s = resolve(caller, ref);
        const f = s.files.get(paths[0]);
        if (!f) throw new ObjectNotFound("file");
        return Promise.resolve({
          contentType: "application/octet-stream",
          body: f,
        });
      },
      logs(caller, ref) {
        const s = resolve(caller, ref, true);
        return Promise.resolve(`log of ${s.info.sessionId}\n`);
      },
      listFiles(caller, ref, path) {
        const s = resolve(caller, ref);
        return Promise.resolve({
          path,
          files: [...s.files.keys()].map((name) => ({ name })),
        });
      },
      streamExecute(
        caller,
        ref,
        req: StreamExecuteRequest,
      ): Promise<StreamRun> {
        const s = resolve(caller, ref);
        let provide: ((line: string) => void) | undefined;
        const line = new Promise<string>((r) => provide = r);
        let stop: (() => void) | undefined;
        const stopped = new Promise<void>((r) => stop = r);
        async function* frames(): AsyncGenerator<StreamFrame> {
          s.info.numQueriesExecuted++;
          yield {
            status: "continued",
            console: [["stdout", "a"], ["stdout", "b\n"]],
            exitCode: null,
            options: null,
            files: [],
          };
          if (req.code.includes("input(")) {
            yield {
              status: "waiting-input",
              console: [],
              exitCode: null,
              options: { is_password: false },
              files: [],
            };
            const got = await line;
            yield {
              status: "finished",
              console: [["stdout", `got ${got}\n`]],
              exitCode: 0,
              options: null,
              files: [],
            };
            return;
          }
          if (req.code === "forever") {
            await stopped;
            return;
          }
          yield {
            status: "finished",
            console: [["stdout", req.code]],
            exitCode: 0,
            options: null,
            files: [],
          };
        }
        return Promise.resolve({
          frames: frames(),
          sendInput(l) {
            inputs.push(l);
            provide?.(l);
            return Promise.resolve();
          },
          interrupt() {
            interrupted.push(s.info.sessionId);
            stop?.();
            return Promise.resolve();
          },
        });
      },
      events(caller, filter) {
        if (filter.name) resolve(caller, filter.name, true);
        const queue: (SessionEvent | null)[] = [];
        let wake: (() => void) | undefined;
        const push = (e: SessionEvent | null) => {
          queue.push(e);
          wake?.();
        };
        listeners.add(push);
        async function* gen(): AsyncGenerator<SessionEvent> {
          try {
            for (;;) {
              while (queue.length === 0) {
                await new Promise<void>((r) => wake = r);
              }
              const e = queue.shift()!;
              if (e === null) return;
              yield e;
            }
          } finally {
            listeners.delete(push);
          }
        }
        return Promise.resolve(gen());
      },
    },
    admin,
  };

  return {
    deps,
    sessions,
    inputs,
    interrupted,
    emit: (e) => listeners.forEach((l) => l(e)),
    eventListeners: () => listeners.size,
  };
}

/** The store-row fields (id, name, createdAt ...) the real admin port answers with. */
function rowOf(info: SessionInfo): Record<string, unknown> {
  return {
    id: info.sessionId,
    name: info.sessionName,
    image: info.image,
    type: "interactive",
    status: info.status,
    statusInfo: info.statusInfo,
    occupiedSlots: info.occupiedSlots,
    createdAt: info.creationTime,
    terminatedAt: info.terminationTime,
    numQueries: info.numQueriesExecuted,
    kernels: [],
  };
}
