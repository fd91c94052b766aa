/**
 * SessionActor: one per live session on the manager
 * (`/user/manager/sessions/ID`). It owns the lifecycle state machine
 * (lifecycle.ts), persisting every transition before acting on it, and
 * delegates its other jobs, one file each: the link to its kernel and the
 * kernel's absences (kernel_link.ts), the runs it relays (runs.ts), and
 * destroy / restart (teardown.ts).
 *
 * Long operations (kernel creation, a run, a destroy) never block the
 * mailbox: they run in the background and report back to `self`, and slow
 * answers are deferred replies (`replyLater`), so output events keep
 * flowing while a client long-polls.
 *
 * @module
 */

import {
  Actor,
  type ActorRef,
  replyLater,
  type Terminated,
} from "../../runtime/mod.ts";
import type { AgentMsg, KernelMsg } from "../../protocol/agent.ts";
import type { KernelGone } from "../../protocol/manager.ts";
import type { SessionInfo } from "../port/mod.ts";
import { DomainError } from "../errors.ts";
import {
  assertTransition,
  isEnded,
  type SessionStatus,
  toSessionInfo,
} from "../lifecycle.ts";
import type { ManagerServices, SessionRow } from "../services.ts";
import { errorText, KernelLink, type LinkHost } from "./kernel_link.ts";
import type { SessionMsg } from "./messages.ts";
import { RunRelay } from "./runs.ts";
import { Teardown, type TeardownHost } from "./teardown.ts";
import { StatusWaiters, type Waited } from "./status_waiters.ts";
import { announceStatus } from "./status_news.ts";
import { requestKernel } from "./kernel_request.ts";
import { announce, CREATING, resume } from "./resume.ts";
import * as spans from "./spans.ts";
import { AgentRetirement } from "./agent_retired.ts";
import { ActivitySaver } from "./activity_saver.ts";
import { holdReason, NEEDS_KERNEL, Suspension } from "./suspend.ts";

export type { SessionMsg } from "./messages.ts";

export { KERNEL_REJOIN_GRACE_MS } from "./kernel_link.ts";
export { POLL_MS } from "./runs.ts";

export class SessionActor extends Actor<SessionMsg>
  implements LinkHost, TeardownHost {
  #row!: SessionRow;
  readonly #waiters = new StatusWaiters();
  readonly link: KernelLink;
  readonly runs: RunRelay;
  readonly #teardown: Teardown;
  readonly #retirement: AgentRetirement;
  readonly suspension = new Suspension(this);
  /** The trace of the request that created it (sessions.ts), for its first steps. */
  origin?: string;
  /** Its row as the create just stored it (first start only; sessions.ts). */
  initial?: SessionRow;
  readonly #activity: ActivitySaver; // query count, last activity (activity_saver.ts)

  constructor(readonly id: string, readonly svc: ManagerServices) {
    super();
    this.link = new KernelLink(this);
    this.runs = new RunRelay(this.link, () => {
      this.#row.numQueries++;
      this.#row.lastActivity = Date.now();
      this.#activity.touched();
    });
    this.#activity = new ActivitySaver(() =>
      svc.store.touch(this.#row.id, this.#row.numQueries)
    );
    this.#teardown = new Teardown(this);
    this.#retirement = new AgentRetirement(this, svc.store);
  }

  get self(): ActorRef<SessionMsg> {
    return this.ctx.self;
  }

  row(): SessionRow {
    return this.#row;
  }

  agentRef(agentId: string): ActorRef<AgentMsg> {
    return this.svc.agentRef(agentId);
  }

  kernelRef(agentId: string, kernelId: string): ActorRef<KernelMsg> {
    return this.svc.kernelRef(agentId, kernelId);
  }

  watch(ref: ActorRef): void {
    this.ctx.watch(ref);
  }

  unwatch(ref: ActorRef): void {
    this.ctx.unwatch(ref);
  }

  override async preStart(): Promise<void> {
    const row = this.initial ?? await this.svc.store.getSession(this.id);
    this.initial = undefined;
    if (!row) throw new Error(`session ${this.id} is not in the store`);
    this.#row = row;
    spans.inTrace(this.origin, () => announce(this.svc.scheduler, row));
    resume(this, row);
  }

  override postStop(): void {
    this.link.clear();
    this.#activity.flush();
  }

  /** The next incarnation starts from the store; this one's timers go. */
  override preRestart(): void {
    this.link.clear();
    this.#activity.flush();
  }

  override onTerminated(t: Terminated): void {
    const status = this.#row.status;
    if (!this.link.isKernel(t.ref) || isEnded(status)) return;
    if (status === "TERMINATING") return;
    if (
      t.reason.kind === "node-down" &&
      (status === "RUNNING" || status === "SUSPENDED")
    ) {
      // The agent may come back with the container still running (it
      // re-adopts containers on restart): wait for it, a while.
      this.link.goAway(reasonText(t), this.runs.current);
      return;
    }
    this.self.tell({
      type: "kernel.gone",
      kernelId: this.#row.kernelId ?? "",
      reason: reasonText(t),
    });
  }

  receive(msg: SessionMsg): unknown {
    if (Suspension.handles(msg)) return this.suspension.receive(msg);
    const held = NEEDS_KERNEL.has(msg.type) && this.suspension.intercept(msg);
    if (held) return held;
    switch (msg.type) {
      case "info":
        return this.#info();
      case "wait-status":
        return replyLater(
          this.waitStatus(msg.statuses, msg.timeoutMs).then((status) => ({
            status,
            statusInfo: this.#row.statusInfo,
          })),
        );
      case "scheduled":
        return spans.prepareSpan(
          this.#row,
          () => this.#onScheduled(msg.agentId),
        );
      case "unschedulable":
        return this.transition("CANCELLED", msg.reason, {
          terminatedAt: Date.now(),
        });
      case "created":
        return this.#onCreated(msg);
      case "create-failed":
        // Late news of a creation the session no longer waits for is dropped.
        if (!CREATING.has(this.#row.status)) return;
        return this.transition("ERROR", msg.reason, {
          terminatedAt: Date.now(),
        });
      case "execute":
        this.#requireRunning();
        this.#row.lastActivity = Date.now();
        return replyLater(spans.tracedExecute(this.#row, msg, this.runs));
      case "stream":
        this.#requireRunning();
        this.#row.lastActivity = Date.now();
        return { runId: this.runs.stream(msg.mode, msg.code, msg.options) };
      case "input":
        this.#requireRunning();
        return this.runs.input(msg.runId, msg.text);
      case "interrupt":
        this.#requireRunning();
        return replyLater(
          this.link.ask({
            type: "interrupt",
            runId: this.runs.current?.runId,
          }),
        );
      case "kernel":
        this.#requireRunning();
        return replyLater(this.link.ask(msg.msg));
      case "run.event":
        return this.runs.onEvent(msg);
      case "kernel.gone":
        return this.#onKernelGone(msg);
      case "kernel.adopted":
        return this.#onAdopted(msg);
      case "kernel.away-expired":
        return this.#onAwayExpired(msg.kernelId, msg.since);
      case "destroy":
        return this.#teardown.destroy(msg.reason);
      case "restart":
        return this.#teardown.restart();
      case "tick":
        return this.#tick(msg.now);
      case "agent.retired":
        return this.#retirement.retire(msg.agentId, msg.reason);
      case "agent.retired.done":
        return this.#retirement.finish(msg);
    }
  }

  #info(): SessionInfo {
    return toSessionInfo(
      this.#row,
      Date.now(),
      this.#retirement.ending ?? this.link.awayReason ?? this.#row.statusInfo ??
        holdReason(this.#row),
    );
  }

  /** Persists a status change (checked against the lifecycle table), then tells everyone concerned. */
  async transition(
    status: SessionStatus,
    reason: string,
    patch: Partial<SessionRow> = {},
    via?: { status: SessionStatus; reason: string },
  ): Promise<void> {
    if (this.#row.status === status) return;
    if (via) {
      assertTransition(this.#row.status, via.status);
      assertTransition(via.status, status);
    } else assertTransition(this.#row.status, status);
    const row = await this.svc.store.transition(
      this.#row.id,
      status,
      reason,
      patch,
      via,
    );
    // Counters kept in memory between stores are not in the stored row.
    row.numQueries = Math.max(row.numQueries, this.#row.numQueries);
    this.#row = row;
    if (via) {
      announceStatus(this.svc, { ...row, status: via.status }, via.reason);
    }
    announceStatus(this.svc, row, reason);
    const ended = isEnded(status);
    if (ended) this.svc.scheduler.tell({ type: "released", sessionId: row.id });
    this.#waiters.reached(status);
    if (ended) void this.ctx.stop();
  }

  /** Resolves with the status once it is one of `statuses` or ended; `TIMEOUT` after `timeoutMs` (0: no limit). */
  waitStatus(
    statuses: SessionStatus[],
    timeoutMs: number,
  ): Promise<Waited> {
    return this.#waiters.wait(this.#row.status, statuses, timeoutMs);
  }

  async #onScheduled(agentId: string): Promise<void> {
    if (this.#row.status !== "PENDING") return;
    const kernelId = crypto.randomUUID();
    // Both steps recorded in one write (a round trip less per start).
    await this.transition("PREPARING", "creating kernel", {
      agentId,
      kernelId,
    }, { status: "SCHEDULED", reason: "scheduled" });
    this.createKernel(agentId, kernelId);
  }

  /** Asks the agent for the kernel (kernel_request.ts). */
  createKernel(agentId: string, kernelId: string, retryUntil = 0): void {
    requestKernel(
      this.svc.agentRef(agentId),
      this.self,
      this.#row,
      agentId,
      kernelId,
      retryUntil,
    );
  }

  async #onCreated(
    msg: { kernelId: string; agentId: string; containerId: string },
  ): Promise<void> {
    const status = this.#row.status;
    if (
      status === "TERMINATING" || isEnded(status) ||
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
    this.link.attach(msg.agentId, msg.kernelId);
    await this.transition("RUNNING", "kernel started", {
      occupiedSlots: this.#row.requestedSlots,
      containerId: msg.containerId,
      lastActivity: Date.now(),
    });
    spans.startedRunning(status, this.#row);
  }

  #requireRunning(): void {
    this.#retirement.assertNotEnding();
    if (!this.link.ref || this.#row.status !== "RUNNING") {
      throw new DomainError(
        "generic-bad-request",
        `The session is ${this.#row.status}, not RUNNING.`,
      );
    }
  }

  /** The kernel's agent is back and holds the kernel again. */
  #onAdopted(
    msg: { kernelId: string; agentId: string; containerId?: string },
  ): void {
    const r = this.#row;
    if (
      msg.kernelId !== r.kernelId || msg.agentId !== r.agentId ||
      (r.status !== "RUNNING" && r.status !== "SUSPENDED")
    ) {
      return; // not ours
    }
    if (this.link.back(msg.agentId, msg.kernelId) && msg.containerId) {
      r.containerId = msg.containerId;
    }
  }

  async #onAwayExpired(kernelId: string, since: number): Promise<void> {
    if (kernelId !== this.#row.kernelId) return;
    const why = this.link.expired(since);
    if (why) {
      await this.#onKernelGone({ type: "kernel.gone", kernelId, reason: why });
    }
  }

  async #onKernelGone(msg: KernelGone): Promise<void> {
    const status = this.#row.status;
    if (msg.kernelId !== this.#row.kernelId || isEnded(status)) return;
    if (status === "RESTARTING") return; // the old kernel of a restart
    this.link.forget();
    this.runs.end(137, `\nkernel ended: ${msg.reason}\n`);
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
    await this.transition(
      status === "TERMINATING" ? "TERMINATED" : "ERROR",
      msg.reason,
      {
        terminatedAt: Date.now(),
        lastStat: msg.stats ?? this.#row.lastStat,
      },
    );
  }

  async #tick(now: number): Promise<void> {
    const verdict = this.svc.expiry(this.#row, now);
    if (verdict) await this.#teardown.destroy(verdict);
    else await this.suspension.tick(now);
  }

  /** Ends the session (the cost limit's `terminate`, suspend.ts). */
  destroy(reason: string): Promise<unknown> {
    return this.#teardown.destroy(reason);
  }
}

function reasonText(t: Terminated): string {
  const r = t.reason;
  return r.kind === "normal"
    ? "kernel stopped"
    : r.kind === "node-down"
    ? `agent ${r.node} is down`
    : r.error;
}
