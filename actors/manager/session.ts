/**
 * SessionActor: one per live session on the manager (`/user/sessions/ID`).
 *
 * Owns the lifecycle state machine (PENDING → SCHEDULED → PREPARING →
 * RUNNING → TERMINATING → TERMINATED, plus ERROR, CANCELLED, RESTARTING),
 * persisting every transition before acting on it, and relays executions to
 * its kernel on an agent node. Long operations (kernel creation, a run, a
 * destroy) never block the mailbox: they run in the background and report
 * back to `self`, and callers get a {@link Pending} holder to await outside
 * the actor, so output events keep flowing while a client long-polls.
 *
 * @module
 */

import { Actor, type ActorRef, type Terminated } from "../runtime/types.ts";
import type { ExecuteResult, SessionInfo } from "../../routes/deps.ts";
import type { KernelGone, RunEvent } from "./protocol.ts";
import type { AgentMsg, KernelMsg } from "../agent/protocol.ts";
import { DomainError } from "./errors.ts";
import { Run } from "./run.ts";
import type { ManagerServices, SessionRow } from "./services.ts";

/** Not a thenable on purpose: the runtime would await it inside the actor. */
export interface Pending<T> {
  wait: Promise<T>;
}

/** How long a long-poll waits before answering `continued`. */
export const POLL_MS = 2000;

export type SessionMsg =
  | { type: "info" }
  | { type: "scheduled"; agentId: string }
  | { type: "unschedulable"; reason: string }
  | { type: "created"; kernelId: string; agentId: string; containerId: string }
  | { type: "create-failed"; reason: string }
  | {
    type: "execute";
    mode: string;
    code: string;
    runId: string;
    options: Record<string, unknown>;
  }
  | {
    type: "stream";
    mode: "query" | "batch";
    code: string;
    options: Record<string, unknown>;
  }
  | { type: "input"; runId: string; text: string }
  | { type: "interrupt" }
  | { type: "kernel"; msg: KernelMsg }
  | { type: "destroy"; reason: string }
  | { type: "restart" }
  | { type: "wait-status"; statuses: string[]; timeoutMs: number }
  | { type: "tick"; now: number }
  | RunEvent
  | KernelGone;

const LIVE_KERNEL = new Set(["RUNNING", "RESTARTING"]);
const ENDED = new Set(["TERMINATED", "CANCELLED", "ERROR"]);

export class SessionActor extends Actor<SessionMsg> {
  #row!: SessionRow;
  #kernel?: ActorRef<KernelMsg>;
  #run?: Run;
  #statusWaiters: { statuses: string[]; resolve: (s: string) => void }[] = [];
  #destroying?: Promise<{ stats: Record<string, unknown> }>;

  constructor(readonly id: string, readonly svc: ManagerServices) {
    super();
  }

  override async preStart(): Promise<void> {
    const row = await this.svc.store.getSession(this.id);
    if (!row) throw new Error(`session ${this.id} is not in the store`);
    this.#row = row;
    if (row.status === "PENDING") {
      this.svc.scheduler.tell({
        type: "enqueue",
        sessionId: row.id,
        accessKey: row.accessKey,
        slots: row.requestedSlots,
        scalingGroup: row.scalingGroup,
        createdAt: row.createdAt,
      });
    } else if (row.agentId && !ENDED.has(row.status)) {
      this.svc.scheduler.tell({
        type: "placed",
        sessionId: row.id,
        agentId: row.agentId,
        slots: row.requestedSlots,
      });
    }
    if (row.kernelId && row.agentId && LIVE_KERNEL.has(row.status)) {
      this.#attachKernel(row.agentId, row.kernelId);
    }
  }

  override onTerminated(t: Terminated): void {
    if (
      t.ref.path === this.#kernel?.path && !ENDED.has(this.#row.status) &&
      this.#row.status !== "TERMINATING"
    ) {
      this.self().tell({
        type: "kernel.gone",
        kernelId: this.#row.kernelId ?? "",
        reason: reasonText(t),
      });
    }
  }

  receive(msg: SessionMsg): unknown {
    switch (msg.type) {
      case "info":
        return this.#info();
      case "wait-status":
        return this.#waitStatus(msg.statuses, msg.timeoutMs);
      case "scheduled":
        return this.#onScheduled(msg.agentId);
      case "unschedulable":
        return this.#transition("CANCELLED", msg.reason);
      case "created":
        return this.#onCreated(msg);
      case "create-failed":
        return this.#transition("ERROR", msg.reason);
      case "execute":
        return this.#execute(msg);
      case "stream":
        return this.#stream(msg);
      case "input":
        return this.#input(msg.runId, msg.text);
      case "interrupt":
        return {
          wait: this.#kernelAsk({ type: "interrupt", runId: this.#run?.runId }),
        };
      case "kernel":
        return { wait: this.#kernelAsk(msg.msg) };
      case "run.event":
        return this.#onRunEvent(msg);
      case "kernel.gone":
        return this.#onKernelGone(msg);
      case "destroy":
        return this.#destroy(msg.reason);
      case "restart":
        return this.#restart();
      case "tick":
        return this.#tick(msg.now);
    }
  }

  self(): ActorRef<SessionMsg> {
    return this.ctx.self;
  }

  #info(): SessionInfo {
    const r = this.#row;
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
      agentId: r.agentId,
      kernelId: r.kernelId,
      tag: r.tag,
      scalingGroup: r.scalingGroup,
      protected: r.protected,
    };
  }

  async #transition(
    status: string,
    reason: string,
    patch: Partial<SessionRow> = {},
  ): Promise<void> {
    if (this.#row.status === status) return;
    const row = await this.svc.store.transition(
      this.#row.id,
      status,
      reason,
      patch,
    );
    this.#row = row;
    this.svc.events.publish({
      event: `session_${status.toLowerCase()}`,
      data: {
        sessionId: row.id,
        sessionName: row.name,
        accessKey: row.accessKey,
        status,
        reason,
      },
    });
    this.svc.keypairs.tell(row.accessKey, {
      type: "session.status",
      sessionId: row.id,
      status,
      slots: row.occupiedSlots,
    });
    if (ENDED.has(status)) {
      this.svc.scheduler.tell({ type: "released", sessionId: row.id });
    }
    const waiters = this.#statusWaiters;
    this.#statusWaiters = waiters.filter((w) =>
      !w.statuses.includes(status) && !ENDED.has(status)
    );
    for (const w of waiters) {
      if (w.statuses.includes(status) || ENDED.has(status)) w.resolve(status);
    }
    if (ENDED.has(status)) void this.ctx.stop();
  }

  #waitStatus(statuses: string[], timeoutMs: number): Pending<string> {
    const now = this.#row.status;
    if (statuses.includes(now) || ENDED.has(now)) {
      return { wait: Promise.resolve(now) };
    }
    return {
      wait: new Promise((resolve) => {
        const entry = { statuses, resolve };
        this.#statusWaiters.push(entry);
        if (timeoutMs > 0) {
          setTimeout(() => {
            const i = this.#statusWaiters.indexOf(entry);
            if (i >= 0) this.#statusWaiters.splice(i, 1);
            resolve("TIMEOUT");
          }, timeoutMs);
        }
      }),
    };
  }

  async #onScheduled(agentId: string): Promise<void> {
    if (this.#row.status !== "PENDING") return;
    const kernelId = crypto.randomUUID();
    await this.#transition("SCHEDULED", "scheduled", { agentId, kernelId });
    await this.#transition("PREPARING", "creating kernel");
    this.#createKernel(agentId, kernelId);
  }

  #createKernel(agentId: string, kernelId: string): void {
    const agent = this.svc.agentRef(agentId);
    const r = this.#row;
    const create: AgentMsg = {
      type: "kernel.create",
      sessionId: r.id,
      kernelId,
      image: r.image,
      slots: r.requestedSlots,
      environ: r.config.environ ?? {},
      mounts: r.mounts ?? [],
      bootstrapScript: r.config.bootstrapScript,
      owner: this.ctx.self.toJSON(),
    };
    const self = this.self();
    agent.ask<{ containerId: string }>(create, { timeoutMs: 120_000 }).then(
      (res) =>
        self.tell({
          type: "created",
          kernelId,
          agentId,
          containerId: res.containerId,
        }),
      (err) =>
        self.tell({
          type: "create-failed",
          reason: `kernel creation failed: ${errorText(err)}`,
        }),
    );
  }

  async #onCreated(
    msg: { kernelId: string; agentId: string; containerId: string },
  ): Promise<void> {
    if (
      this.#row.status === "TERMINATING" || ENDED.has(this.#row.status) ||
      msg.kernelId !== this.#row.kernelId
    ) {
      // Destroyed while preparing: the fresh kernel is not wanted.
      this.svc.agentRef(msg.agentId).tell({
        type: "kernel.destroy",
        kernelId: msg.kernelId,
        reason: "session ended",
      });
      return;
    }
    this.#attachKernel(msg.agentId, msg.kernelId);
    await this.#transition("RUNNING", "kernel started", {
      occupiedSlots: this.#row.requestedSlots,
      containerId: msg.containerId,
      lastActivity: Date.now(),
    });
  }

  #attachKernel(agentId: string, kernelId: string): void {
    this.#kernel = this.svc.kernelRef(agentId, kernelId);
    this.ctx.watch(this.#kernel);
  }

  #requireRunning(): ActorRef<KernelMsg> {
    if (!this.#kernel || this.#row.status !== "RUNNING") {
      throw new DomainError(
        "generic-bad-request",
        `The session is ${this.#row.status}, not RUNNING.`,
      );
    }
    return this.#kernel;
  }

  #kernelAsk(msg: KernelMsg, timeoutMs = 30_000): Promise<unknown> {
    try {
      return this.#requireRunning().ask(msg, { timeoutMs });
    } catch (e) {
      return Promise.reject(e);
    }
  }

  #execute(
    msg: {
      mode: string;
      code: string;
      runId: string;
      options: Record<string, unknown>;
    },
  ): Pending<ExecuteResult> {
    const kernel = this.#requireRunning();
    let run = this.#run;
    if (msg.mode === "query" || msg.mode === "batch") {
      if (run && !run.final && run.runId !== msg.runId) {
        throw new DomainError(
          "generic-bad-request",
          "Another run is in progress; continue or interrupt it first.",
        );
      }
      if (!run || run.runId !== msg.runId || run.final) {
        run = this.#startRun(
          kernel,
          msg.runId,
          msg.mode,
          msg.code,
          msg.options,
        );
      }
    } else {
      if (!run || run.runId !== msg.runId) {
        throw new DomainError(
          "invalid-api-params",
          `No run with id ${msg.runId} in this session.`,
        );
      }
      if (msg.mode === "input") {
        kernel.tell({ type: "input", runId: msg.runId, text: msg.code });
        run.resume();
      }
    }
    const current = run;
    this.#row.lastActivity = Date.now();
    return { wait: current.wait(POLL_MS).then(() => current.take()) };
  }

  #startRun(
    kernel: ActorRef<KernelMsg>,
    runId: string,
    mode: string,
    code: string,
    options: Record<string, unknown>,
  ): Run {
    const run = new Run(runId, mode);
    this.#run = run;
    this.#row.numQueries++;
    const opts: Record<string, unknown> = { ...options };
    if (mode === "batch") {
      opts.clean = options.clean ?? null;
      opts.build = options.build ?? null;
      opts.exec = options.exec ?? null;
    }
    kernel.ask({
      type: "exec",
      runId,
      mode: mode as "query" | "batch",
      code,
      opts,
    }, { timeoutMs: 30_000 }).catch(
      (err) => {
        if (run.final) return;
        run.push(["stderr", `kernel unreachable: ${errorText(err)}\n`]);
        run.setStatus("finished", 1);
      },
    );
    void this.svc.store.touch(this.#row.id, this.#row.numQueries);
    return run;
  }

  #stream(
    msg: {
      mode: "query" | "batch";
      code: string;
      options: Record<string, unknown>;
    },
  ): Run {
    const kernel = this.#requireRunning();
    if (this.#run && !this.#run.final) {
      throw new DomainError(
        "generic-bad-request",
        "Another run is in progress.",
      );
    }
    this.#row.lastActivity = Date.now();
    return this.#startRun(
      kernel,
      crypto.randomUUID(),
      msg.mode,
      msg.code,
      msg.options,
    );
  }

  #input(runId: string, text: string): void {
    const run = this.#run;
    if (!run || run.runId !== runId) return;
    this.#requireRunning().tell({ type: "input", runId, text });
    run.resume();
  }

  #onRunEvent(msg: RunEvent): void {
    const run = this.#run;
    if (!run || run.runId !== msg.runId) return;
    const ev = msg.ev;
    switch (ev.ev) {
      case "out":
        run.push([ev.stream === "stderr" ? "stderr" : "stdout", ev.data ?? ""]);
        break;
      case "media":
        run.push(["media", [
          ev.mime ?? "application/octet-stream",
          ev.data ?? "",
        ]]);
        break;
      case "html":
        run.push(["html", ev.data ?? ""]);
        break;
      case "waiting-input":
        if (ev.prompt) run.push(["stdout", ev.prompt]);
        run.setStatus("waiting-input", null, {
          is_password: ev.password ?? false,
        });
        break;
      case "stage":
        run.setStatus(ev.stage ?? "build-finished", ev.exitCode ?? 0);
        break;
      case "done":
        run.setStatus(
          ev.status === "exec-timeout" ? "exec-timeout" : "finished",
          ev.exitCode ?? 0,
        );
        break;
    }
  }

  async #onKernelGone(msg: KernelGone): Promise<void> {
    if (msg.kernelId !== this.#row.kernelId || ENDED.has(this.#row.status)) {
      return;
    }
    if (this.#row.status === "RESTARTING") return; // the old kernel of a restart
    if (this.#run && !this.#run.final) {
      this.#run.push(["stderr", `\nkernel ended: ${msg.reason}\n`]);
      this.#run.setStatus("finished", 137);
    }
    if (msg.stats) await this.svc.store.recordUsage(this.#row, msg.stats);
    await this.#transition(
      this.#row.status === "TERMINATING" ? "TERMINATED" : "ERROR",
      msg.reason,
      {
        terminatedAt: Date.now(),
        lastStat: msg.stats ?? this.#row.lastStat,
      },
    );
  }

  /** Serialised part of a destroy: mark TERMINATING; the agent call runs in the background. */
  async #destroy(
    reason: string,
  ): Promise<Pending<{ stats: Record<string, unknown> }>> {
    if (this.#destroying) return { wait: this.#destroying };
    const row = this.#row;
    if (ENDED.has(row.status)) {
      return { wait: Promise.resolve({ stats: row.lastStat ?? {} }) };
    }
    if (row.status === "PENDING" || row.status === "SCHEDULED") {
      await this.#transition("CANCELLED", reason, { terminatedAt: Date.now() });
      return { wait: Promise.resolve({ stats: {} }) };
    }
    const kernelLive = Boolean(row.kernelId && row.agentId);
    await this.#transition("TERMINATING", reason);
    if (this.#kernel) this.ctx.unwatch(this.#kernel);
    if (this.#run && !this.#run.final) this.#run.setStatus("finished", 137);
    const self = this.self();
    const kernelId = row.kernelId ?? "";
    const ended = this.#waitStatus(["TERMINATED"], 60_000).wait;
    const destroyed = (async () => {
      let stats: Record<string, number> = {};
      let why = reason;
      if (kernelLive) {
        try {
          const res = await this.svc.agentRef(row.agentId!).ask<
            { stats?: Record<string, number> }
          >(
            { type: "kernel.destroy", kernelId, reason },
            { timeoutMs: 30_000 },
          );
          stats = res?.stats ?? {};
        } catch (err) {
          why = `${reason}; agent did not confirm: ${errorText(err)}`;
        }
      }
      self.tell({ type: "kernel.gone", kernelId, reason: why, stats });
      return { stats };
    })();
    // Answer once the session is really TERMINATED, so a GET right after sees it.
    this.#destroying = Promise.all([destroyed, ended]).then(([result]) =>
      result
    );
    return { wait: this.#destroying };
  }

  /** RESTARTING now; the old kernel goes and a new one comes in the background. */
  async #restart(): Promise<Pending<void>> {
    const row = this.#row;
    if (row.status !== "RUNNING" || !row.agentId || !row.kernelId) {
      throw new DomainError(
        "generic-bad-request",
        `The session is ${row.status}, not RUNNING.`,
      );
    }
    const agentId = row.agentId;
    const oldKernel = row.kernelId;
    if (this.#kernel) this.ctx.unwatch(this.#kernel);
    this.#kernel = undefined;
    const kernelId = crypto.randomUUID();
    await this.#transition("RESTARTING", "restart requested", { kernelId });
    const running = this.#waitStatus(["RUNNING"], 120_000).wait;
    const agent = this.svc.agentRef(agentId);
    agent.ask({
      type: "kernel.destroy",
      kernelId: oldKernel,
      reason: "restart",
    }, { timeoutMs: 30_000 })
      .catch(() => undefined)
      .then(() => this.#createKernel(agentId, kernelId));
    return {
      wait: running.then((status) => {
        if (status !== "RUNNING") {
          throw new DomainError(
            "kernel-creation-failed",
            `restart ended in ${status}`,
          );
        }
      }),
    };
  }

  async #tick(now: number): Promise<void> {
    const verdict = this.svc.expiry(this.#row, now);
    if (verdict) await this.#destroy(verdict);
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function reasonText(t: Terminated): string {
  const r = t.reason;
  return r.kind === "normal"
    ? "kernel stopped"
    : r.kind === "node-down"
    ? `agent ${r.node} is down`
    : r.error;
}
