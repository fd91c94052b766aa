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
import type { ExecuteResult, SessionInfo } from "./port/mod.ts";
import type { KernelGone, RunEvent } from "../protocol/manager.ts";
import type { AgentMsg, KernelMsg } from "../protocol/agent.ts";
import { DomainError } from "./errors.ts";
import { Run } from "./run.ts";
import type { ManagerServices, SessionRow } from "./services.ts";

/** Not a thenable on purpose: the runtime would await it inside the actor. */
export interface Pending<T> {
  wait: Promise<T>;
}

/** How long a long-poll waits before answering `continued`. */
export const POLL_MS = 2000;

/**
 * How long a session keeps its kernel after the kernel's agent node went
 * down (a crash, a restart, a manager restart) before it gives the kernel
 * up and goes to ERROR. A restarted agent re-adopts its containers and says
 * so (`kernel.adopted`); within this grace the session stays RUNNING.
 */
export const KERNEL_REJOIN_GRACE_MS = graceFromEnv(30_000);

/** `BAI_KERNEL_REJOIN_GRACE_MS` overrides the grace (tests shorten it). */
function graceFromEnv(fallback: number): number {
  try {
    const v = Number(Deno.env.get("BAI_KERNEL_REJOIN_GRACE_MS"));
    return Number.isFinite(v) && v > 0 ? v : fallback;
  } catch {
    return fallback; // no env permission
  }
}

/** While a kernel is away, how often the session asks its agent whether the kernel is back. */
export const KERNEL_AWAY_POLL_MS = 1_000;

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
  | {
    type: "kernel.adopted";
    kernelId: string;
    agentId: string;
    containerId?: string;
  }
  | { type: "kernel.away-expired"; kernelId: string; since: number }
  | RunEvent
  | KernelGone;

const LIVE_KERNEL = new Set(["RUNNING", "RESTARTING"]);
const ENDED = new Set(["TERMINATED", "CANCELLED", "ERROR"]);
const CREATING = new Set(["SCHEDULED", "PREPARING", "RESTARTING"]);

/** The kernel's agent node is down; the session waits for it to come back. */
interface Away {
  since: number;
  reason: string;
  grace: ReturnType<typeof setTimeout>;
  poll: ReturnType<typeof setInterval>;
}

type ExecMsg = Extract<KernelMsg, { type: "exec" }>;

export class SessionActor extends Actor<SessionMsg> {
  #row!: SessionRow;
  #kernel?: ActorRef<KernelMsg>;
  #run?: Run;
  #statusWaiters: { statuses: string[]; resolve: (s: string) => void }[] = [];
  #destroying?: Promise<{ stats: Record<string, unknown> }>;
  #away?: Away;
  /** A run asked for while the kernel was away: sent once it is back. */
  #deferred?: { run: Run; msg: ExecMsg };
  /**
   * Re-activated from the store with a live kernel (manager restart, or this
   * actor restarted by its supervisor): runs started before are lost here.
   */
  #restored = false;
  /** Whether an exec went to the kernel since this actor was re-activated. */
  #sentSinceRestore = false;

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
    this.#resume(row);
  }

  /**
   * Picks up work the previous incarnation of this actor (or of the manager)
   * left in the middle: a kernel being created is asked for again (the agent
   * answers for one it already made), a destroy is finished, a running
   * kernel is re-watched.
   */
  #resume(row: SessionRow): void {
    if (row.kernelId && row.agentId) {
      if (row.status === "SCHEDULED" || row.status === "PREPARING") {
        const { agentId, kernelId } = row;
        const go = row.status === "SCHEDULED"
          ? this.#transition("PREPARING", "creating kernel (resumed)")
          : Promise.resolve();
        void go.then(
          () =>
            this.#createKernel(
              agentId,
              kernelId,
              Date.now() + KERNEL_REJOIN_GRACE_MS,
            ),
          (err) =>
            this.self().tell({
              type: "create-failed",
              reason: `kernel creation failed: ${errorText(err)}`,
            }),
        );
        return;
      }
      if (row.status === "RESTARTING") {
        this.#createKernel(
          row.agentId,
          row.kernelId,
          Date.now() + KERNEL_REJOIN_GRACE_MS,
        );
        return;
      }
    }
    if (row.status === "TERMINATING") {
      this.self().tell({
        type: "destroy",
        reason: row.statusInfo ?? "terminating (resumed)",
      });
      return;
    }
    if (row.kernelId && row.agentId && LIVE_KERNEL.has(row.status)) {
      this.#restored = row.status === "RUNNING";
      // If the agent is not connected (yet), the watch answers node-down at
      // once and the session waits for the agent (see #goAway).
      this.#attachKernel(row.agentId, row.kernelId);
      if (this.#restored) {
        // Runs the previous incarnation started are lost: stop them, so the
        // kernel is free for the next one. Told now, it waits in the link's
        // order before any exec; a down agent drops it (harmless).
        this.#kernel!.tell({ type: "interrupt" });
      }
    }
  }

  override postStop(): void {
    this.#clearAway();
  }

  /** The next incarnation starts from the store; this one's timers go. */
  override preRestart(): void {
    this.#clearAway();
  }

  override onTerminated(t: Terminated): void {
    if (
      t.ref.node !== this.#kernel?.node || t.ref.path !== this.#kernel?.path ||
      ENDED.has(this.#row.status) || this.#row.status === "TERMINATING"
    ) {
      return;
    }
    if (t.reason.kind === "node-down" && this.#row.status === "RUNNING") {
      // The agent may come back with the container still running (it
      // re-adopts containers on restart): wait for it, a while.
      this.#goAway(reasonText(t));
      return;
    }
    this.self().tell({
      type: "kernel.gone",
      kernelId: this.#row.kernelId ?? "",
      reason: reasonText(t),
    });
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
        // Late news of a creation the session no longer waits for is dropped.
        if (!CREATING.has(this.#row.status)) return;
        return this.#transition("ERROR", msg.reason, {
          terminatedAt: Date.now(),
        });
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
      case "kernel.adopted":
        return this.#onAdopted(msg);
      case "kernel.away-expired":
        return this.#onAwayExpired(msg.kernelId, msg.since);
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
    const away = this.#away;
    return {
      sessionId: r.id,
      sessionName: r.name,
      lang: r.image,
      image: r.image,
      type: r.type,
      status: r.status,
      statusInfo: away ? away.reason : r.statusInfo,
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

  /**
   * Asks the agent for the kernel. With `retryUntil` (a resumed creation,
   * the agent possibly not connected yet) a failure is retried every second
   * until then.
   */
  #createKernel(agentId: string, kernelId: string, retryUntil = 0): void {
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
      (err) => {
        if (Date.now() < retryUntil) {
          setTimeout(
            () => this.#createKernel(agentId, kernelId, retryUntil),
            1_000,
          );
          return;
        }
        self.tell({
          type: "create-failed",
          reason: `kernel creation failed: ${errorText(err)}`,
        });
      },
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
      const kernel = this.#requireRunning();
      if (this.#away) {
        if (msg.type === "interrupt") {
          this.#cancelDeferred("interrupted before it could start");
          return Promise.resolve({ ok: true });
        }
        throw new DomainError("service-unavailable", this.#away.reason);
      }
      return kernel.ask(msg, { timeoutMs });
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
      if (!run && this.#restored) {
        // A run of the previous manager incarnation: its output is lost.
        return { wait: Promise.resolve(lostRun(msg.runId)) };
      }
      if (!run || run.runId !== msg.runId) {
        throw new DomainError(
          "invalid-api-params",
          `No run with id ${msg.runId} in this session.`,
        );
      }
      if (msg.mode === "input" && !this.#away) {
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
    const exec: ExecMsg = {
      type: "exec",
      runId,
      mode: mode as "query" | "batch",
      code,
      opts,
    };
    if (this.#away) this.#deferred = { run, msg: exec };
    else this.#sendExec(kernel, run, exec);
    void this.svc.store.touch(this.#row.id, this.#row.numQueries).catch(
      () => undefined,
    );
    return run;
  }

  #sendExec(kernel: ActorRef<KernelMsg>, run: Run, exec: ExecMsg): void {
    this.#sentSinceRestore = true;
    kernel.ask(exec, { timeoutMs: 30_000 }).catch(
      (err) => {
        if (run.final) return;
        run.push(["stderr", `kernel unreachable: ${errorText(err)}\n`]);
        run.setStatus("finished", 1);
      },
    );
  }

  #cancelDeferred(why: string): void {
    const d = this.#deferred;
    this.#deferred = undefined;
    if (!d || d.run.final) return;
    d.run.push(["stderr", `${why}\n`]);
    d.run.setStatus("finished", 1);
  }

  /** The kernel's node went down: keep the session RUNNING for a grace period. */
  #goAway(why: string): void {
    if (this.#away) return;
    const agentId = this.#row.agentId ?? "";
    const kernelId = this.#row.kernelId ?? "";
    const since = Date.now();
    const run = this.#run;
    if (run && !run.final) {
      if (this.#deferred?.run === run) {
        // Not started yet: it waits for the kernel too.
      } else {
        // Its events were flowing from the agent that went away: its outcome
        // is unknown, so it ends here, saying so.
        run.push([
          "stderr",
          `\nkernel unreachable: ${why}; this run's outcome is unknown ` +
          `(the session waits up to ${
            KERNEL_REJOIN_GRACE_MS / 1000
          } s for the agent to return)\n`,
        ]);
        run.setStatus("finished", 137);
      }
    }
    const self = this.self();
    const agent = this.svc.agentRef(agentId);
    let asking = false;
    const poll = setInterval(() => {
      // A pull beside the agent's push (`kernel.adopted`), which can be
      // missed (told before this actor was re-activated after a manager restart).
      if (asking) return;
      asking = true;
      agent.ask<{ kernelId: string; containerId: string }[]>(
        { type: "kernel.list" },
        { timeoutMs: 2_000 },
      ).then((list) => {
        const k = Array.isArray(list)
          ? list.find((x) => x?.kernelId === kernelId)
          : undefined;
        if (k) {
          self.tell({
            type: "kernel.adopted",
            kernelId,
            agentId,
            containerId: k.containerId,
          });
        }
      }, () => undefined).finally(() => asking = false);
    }, KERNEL_AWAY_POLL_MS);
    const grace = setTimeout(
      () => self.tell({ type: "kernel.away-expired", kernelId, since }),
      KERNEL_REJOIN_GRACE_MS,
    );
    this.#away = {
      since,
      reason: `kernel unreachable: ${why}; waiting up to ${
        KERNEL_REJOIN_GRACE_MS / 1000
      } s for it to return`,
      grace,
      poll,
    };
  }

  #clearAway(): void {
    const a = this.#away;
    if (!a) return;
    this.#away = undefined;
    clearTimeout(a.grace);
    clearInterval(a.poll);
  }

  /** The kernel's agent is back and holds the kernel again. */
  #onAdopted(
    msg: { kernelId: string; agentId: string; containerId?: string },
  ): void {
    if (
      typeof msg.kernelId !== "string" || msg.kernelId !== this.#row.kernelId ||
      msg.agentId !== this.#row.agentId || this.#row.status !== "RUNNING" ||
      !this.#away
    ) {
      return; // not ours, or not waiting for it (a duplicate)
    }
    this.#clearAway();
    if (typeof msg.containerId === "string" && msg.containerId) {
      this.#row.containerId = msg.containerId;
    }
    this.#attachKernel(msg.agentId, msg.kernelId);
    if (this.#restored && !this.#sentSinceRestore) {
      // The interrupt told at re-activation found no agent: stop lost runs now.
      this.#kernel!.tell({ type: "interrupt" });
    }
    const d = this.#deferred;
    this.#deferred = undefined;
    if (d && !d.run.final && this.#kernel) {
      this.#sendExec(this.#kernel, d.run, d.msg);
    }
  }

  async #onAwayExpired(kernelId: string, since: number): Promise<void> {
    if (!this.#away || this.#away.since !== since) return;
    if (kernelId !== this.#row.kernelId) return;
    const why = `agent ${this.#row.agentId} did not bring the kernel back ` +
      `within ${KERNEL_REJOIN_GRACE_MS / 1000} s (${this.#away.reason})`;
    this.#clearAway();
    this.#cancelDeferred(`kernel lost: ${why}`);
    await this.#onKernelGone({ type: "kernel.gone", kernelId, reason: why });
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
    if (!run || run.runId !== runId || this.#away) return;
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
    this.#clearAway();
    this.#deferred = undefined;
    if (this.#run && !this.#run.final) {
      this.#run.push(["stderr", `\nkernel ended: ${msg.reason}\n`]);
      this.#run.setStatus("finished", 137);
    }
    if (msg.stats) {
      try {
        await this.svc.store.recordUsage(this.#row, msg.stats);
      } catch (err) {
        // Metering must not keep a session from ending.
        console.error(
          `session ${this.#row.id}: usage not recorded: ${errorText(err)}`,
        );
      }
    }
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
    const wasAway = Boolean(this.#away);
    this.#clearAway();
    this.#deferred = undefined;
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
            // An away agent may be back soon, or never: do not hold the caller long.
            { timeoutMs: wasAway ? 5_000 : 30_000 },
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
    if (this.#away) {
      throw new DomainError("service-unavailable", this.#away.reason);
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

/** The answer to a poll of a run the previous manager incarnation was running. */
function lostRun(runId: string): ExecuteResult {
  return {
    runId,
    status: "finished",
    exitCode: 137,
    console: [[
      "stderr",
      "run lost: the manager restarted while it was running; its outcome " +
      "is unknown and its output is gone (the kernel and its state remain)\n",
    ]],
    files: [],
    options: null,
  };
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
