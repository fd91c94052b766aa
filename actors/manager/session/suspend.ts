/**
 * Pausing a session (RUNNING → SUSPENDED) and resuming it, the session
 * actor's job for cost: a paused session's container is frozen (Docker
 * pause on its agent), it pays its memory only (the phases in
 * migrations/0004_cost.sql meter it), and its slots other than memory go
 * back to the scheduler (`resize`).
 *
 * Who pauses: the idle check on every tick (no run, nothing holding it for
 * the keypair's idle-pause time, policies/cost/idle_pause.ts), the daily
 * cost limit (`cost.limit`, from the keypair actor), or a user
 * (`POST /x/session/{ref}/suspend`).
 *
 * Resuming is transparent: a request that needs the kernel (execute,
 * stream, input, interrupt, a kernel request such as files, completion or
 * a channel, restart) on a SUSPENDED session is held, the session resumes,
 * then the request is handled as if it had just come; the caller sees the
 * added latency only. A resume first asks the keypair whether its daily
 * cost limit allows it (412 quota-exceeded when not), then the scheduler
 * to book the full slots on the session's agent again (`reclaim`); when
 * others took the room meanwhile it answers 503 and the session stays
 * SUSPENDED (retry later, or end it).
 *
 * Holders (terminals, app proxies) keep a session from idling: `hold`
 * (resumes a suspended session and answers once RUNNING) and `unhold`;
 * `activity` restarts the idle time. See port/cost.ts.
 *
 * @module
 */

import type { ActorRef } from "../../runtime/types.ts";
import type { AgentMsg } from "../../protocol/agent.ts";
import { type ReplyLater, replyLater } from "../../runtime/reply_later.ts";
import { decideIdlePause, pausedSlots } from "../../../policies/cost/mod.ts";
import { DomainError } from "../errors.ts";
import type { ManagerServices, SessionRow } from "../services.ts";
import { errorText } from "./kernel_link.ts";
import type { SessionMsg } from "./messages.ts";
import type { SessionHost } from "./host.ts";

/**
 * Requests that need the kernel running: a SUSPENDED session resumes
 * first ({@link Suspension.intercept}).
 */
export const NEEDS_KERNEL: ReadonlySet<string> = new Set([
  "execute",
  "stream",
  "input",
  "interrupt",
  "kernel",
  "restart",
]);

/**
 * Kernel requests the agent answers without the runner (a frozen kernel
 * answers them too): they neither resume a session nor count as its use,
 * so a dashboard watching a session's figures does not keep it awake.
 */
const PASSIVE = new Set(["stats", "channel.list"]);

/** Messages this module handles (see {@link Suspension.receive}). */
const OWN = new Set([
  "suspend",
  "resume",
  "resumed",
  "suspend-failed",
  "cost.limit",
  "activity",
  "hold",
  "unhold",
]);

/** The messages of {@link OWN}. */
export type SuspendMsg = Extract<
  SessionMsg,
  {
    type:
      | "suspend"
      | "resume"
      | "resumed"
      | "suspend-failed"
      | "cost.limit"
      | "activity"
      | "hold"
      | "unhold";
  }
>;

/** Why a PENDING session waits, when the cost budget held it at creation. */
export function holdReason(row: SessionRow): string | null {
  const hold = row.config.costHold;
  return row.status === "PENDING" && typeof hold === "string" ? hold : null;
}

/** What suspending needs of its session actor. */
export interface SuspendHost extends SessionHost {
  readonly svc: ManagerServices;
  /** Ends the session (the cost limit's `terminate`). */
  destroy(reason: string): Promise<unknown>;
}

/**
 * Asks the agent to thaw the kernel; a link that just came back (the
 * agent or the manager restarted a moment ago) gets two more tries, a
 * refusal (no room on the agent) none.
 */
async function thawOn(
  agent: ActorRef<AgentMsg>,
  kernelId: string,
): Promise<void> {
  for (let attempt = 1;; attempt++) {
    try {
      await agent.ask({ type: "kernel.resume", kernelId }, AGENT_ASK);
      return;
    } catch (err) {
      const refused = err instanceof Error && err.name === "KernelPauseRefused";
      if (refused || attempt >= 3) throw err;
      await new Promise((r) => setTimeout(r, 500 * attempt));
    }
  }
}

/** A cost check's answer (keypair actor, `cost.check`). */
export type CostCheck =
  | { ok: true }
  | { ok: false; message: string; data: Record<string, unknown> };

const AGENT_ASK = { timeoutMs: 30_000 };

export class Suspension {
  readonly #holds = new Set<string>();
  #lastUse = 0;
  /** The agent's freeze in flight: resolves with an error text on failure. */
  #pausing?: Promise<string | undefined>;
  #resuming?: Promise<void>;

  constructor(readonly host: SuspendHost) {}

  /** Whether `msg` is one of this module's messages. */
  static handles(msg: { type: string }): msg is SuspendMsg {
    return OWN.has(msg.type);
  }

  /** Holders right now (terminals, app proxies). */
  get holds(): number {
    return this.#holds.size;
  }

  /** A request used the kernel: the idle time starts again. */
  used(now = Date.now()): void {
    this.#lastUse = now;
  }

  receive(msg: SuspendMsg): unknown {
    switch (msg.type) {
      case "suspend":
        return this.suspend(msg.reason);
      case "resume":
        return replyLater(this.resume(msg.reason ?? "resumed on request"));
      case "resumed":
        return this.#resumed(msg.reason);
      case "suspend-failed":
        return this.#failed(msg.reason);
      case "cost.limit":
        return this.#costLimit(msg.action, msg.reason);
      case "activity":
        return this.used();
      case "hold":
        this.#holds.add(msg.holder);
        this.used();
        return replyLater(this.resume(`resumed for ${msg.holder}`));
      case "unhold":
        this.#holds.delete(msg.holder);
        return this.used();
    }
  }

  /**
   * Sees every {@link NEEDS_KERNEL} request first: answers a passive one
   * of a SUSPENDED session itself, resumes the session for any other
   * (then handles it as if it came now), and counts use. Undefined: the
   * actor handles `msg` as usual.
   */
  intercept(msg: SessionMsg): ReplyLater<unknown> | undefined {
    const passive = msg.type === "kernel" && PASSIVE.has(msg.msg.type);
    const suspended = this.host.row().status === "SUSPENDED";
    if (passive) {
      return suspended ? replyLater(this.host.link.ask(msg.msg)) : undefined;
    }
    if (suspended) return this.resumeThen(msg);
    this.used();
    return undefined;
  }

  /**
   * A request that needs the kernel of a SUSPENDED session: resume, then
   * handle `msg` as if it came now (through the mailbox again).
   */
  resumeThen(msg: SessionMsg): ReplyLater<unknown> {
    this.used();
    return replyLater(
      this.resume("resumed by a request").then(() =>
        this.host.self.ask(msg, { timeoutMs: 60_000 })
      ),
    );
  }

  /** The idle check of every tick. */
  async tick(now: number): Promise<void> {
    const h = this.host;
    const row = h.row();
    if (row.status !== "RUNNING" || h.link.awayReason) return;
    const d = decideIdlePause({
      now,
      lastActivityAt: Math.max(this.#lastUse, row.lastActivity),
      idlePauseMs: (h.svc.idlePauseSeconds?.(row.accessKey) ?? 0) * 1000,
      busy: h.runs.busy,
      holds: this.#holds.size,
    });
    if (d.pause) await this.#suspend(d.reason);
  }

  /** `suspend`: the reply waits for the freeze (503 when it failed). */
  async suspend(reason: string): Promise<ReplyLater<unknown>> {
    const pausing = await this.#suspend(reason) ?? this.#pausing;
    return replyLater(
      Promise.resolve(pausing).then((why) => {
        if (why) {
          throw new DomainError("service-unavailable", `not paused: ${why}`);
        }
        return { status: "SUSPENDED" };
      }),
    );
  }

  /**
   * RUNNING → SUSPENDED (stored first, so the paused phase starts now),
   * then the agent freezes the container: the promise returned settles
   * (never rejects) with an error text when that failed.
   */
  async #suspend(
    reason: string,
  ): Promise<Promise<string | undefined> | undefined> {
    const h = this.host;
    const row = h.row();
    if (row.status === "SUSPENDED") return undefined;
    if (row.status !== "RUNNING" || !row.agentId || !row.kernelId) {
      throw new DomainError(
        "generic-bad-request",
        `The session is ${row.status}, not RUNNING.`,
      );
    }
    const away = h.link.awayReason;
    if (away) throw new DomainError("service-unavailable", away);
    await h.transition("SUSPENDED", reason);
    h.svc.scheduler.tell({
      type: "resize",
      sessionId: row.id,
      slots: pausedSlots(row.requestedSlots),
    });
    const pausing = h.svc.agentRef(row.agentId).ask(
      { type: "kernel.pause", kernelId: row.kernelId },
      AGENT_ASK,
    ).then(() => undefined, (err) => {
      const why = errorText(err);
      h.self.tell({ type: "suspend-failed", reason: why });
      return why;
    });
    this.#pausing = pausing;
    return pausing;
  }

  /** Resumes a SUSPENDED session (one resume at a time); resolves once RUNNING. */
  resume(why: string): Promise<void> {
    const status = this.host.row().status;
    if (this.#resuming) return this.#resuming;
    if (status === "RUNNING") return Promise.resolve();
    if (status !== "SUSPENDED") {
      return Promise.reject(
        new DomainError(
          "generic-bad-request",
          `The session is ${status}, not RUNNING.`,
        ),
      );
    }
    const resuming = this.#thaw(why).finally(() => {
      if (this.#resuming === resuming) this.#resuming = undefined;
    });
    this.#resuming = resuming;
    return resuming;
  }

  async #thaw(why: string): Promise<void> {
    const h = this.host;
    const row = h.row();
    await this.#pausing; // a freeze still in flight ends first
    const check = await h.svc.keypairs.ask<CostCheck>?.(row.accessKey, {
      type: "cost.check",
    });
    if (check && !check.ok) {
      throw new DomainError("quota-exceeded", check.message, check.data);
    }
    const claim = await h.svc.scheduler.ask<{ ok: boolean; reason?: string }>(
      { type: "reclaim", sessionId: row.id, slots: row.requestedSlots },
      { timeoutMs: 10_000 },
    );
    if (claim?.ok === false) {
      throw new DomainError(
        "service-unavailable",
        `cannot resume: ${claim.reason}; the session stays SUSPENDED`,
      );
    }
    try {
      await thawOn(h.svc.agentRef(row.agentId!), row.kernelId!);
    } catch (err) {
      h.svc.scheduler.tell({
        type: "resize",
        sessionId: row.id,
        slots: pausedSlots(row.requestedSlots),
      });
      throw new DomainError(
        "service-unavailable",
        `cannot resume: ${errorText(err)}; the session stays SUSPENDED`,
      );
    }
    await h.self.ask({ type: "resumed", reason: why }, { timeoutMs: 15_000 });
  }

  /** The agent thawed the kernel: RUNNING again. */
  async #resumed(why: string): Promise<void> {
    const h = this.host;
    if (h.row().status !== "SUSPENDED") return;
    this.#pausing = undefined;
    this.used();
    await h.transition("RUNNING", why, { lastActivity: Date.now() });
    if (h.link.restored) {
      // A run frozen before a manager restart is lost: free the kernel.
      h.link.tell({ type: "interrupt" });
    }
  }

  /** The agent could not freeze the kernel: it still runs, so say so. */
  async #failed(why: string): Promise<void> {
    const h = this.host;
    const row = h.row();
    this.#pausing = undefined;
    if (row.status !== "SUSPENDED") return;
    h.svc.scheduler.tell({
      type: "resize",
      sessionId: row.id,
      slots: row.requestedSlots,
    });
    await h.transition("RUNNING", `not paused: ${why}`);
  }

  /** The keypair's daily cost limit is reached. */
  async #costLimit(
    action: "pause" | "terminate",
    reason: string,
  ): Promise<void> {
    const status = this.host.row().status;
    if (action === "terminate") {
      if (status === "RUNNING" || status === "SUSPENDED") {
        await this.host.destroy(reason);
      }
      return;
    }
    if (status === "RUNNING" && !this.host.link.awayReason) {
      await this.#suspend(reason);
    }
  }
}
