/**
 * Ending and restarting a session's kernel. The serialised part (checks and
 * the TERMINATING / RESTARTING transition) runs in the actor's mailbox; the
 * agent call runs in the background and reports back to the actor, and the
 * caller's reply waits for the status that proves it done.
 *
 * @module
 */

import type { ActorRef } from "../../runtime/types.ts";
import { type ReplyLater, replyLater } from "../../runtime/reply_later.ts";
import type { AgentMsg } from "../../protocol/agent.ts";
import { DomainError } from "../errors.ts";
import { isEnded, type SessionStatus } from "../lifecycle.ts";
import { errorText } from "./kernel_link.ts";
import type { Waited } from "./status_waiters.ts";
import type { SessionHost } from "./host.ts";

/** What teardown needs of its session actor. */
export interface TeardownHost extends SessionHost {
  waitStatus(statuses: SessionStatus[], timeoutMs: number): Promise<Waited>;
  agentRef(agentId: string): ActorRef<AgentMsg>;
  createKernel(agentId: string, kernelId: string): void;
}

export type DestroyResult = { stats: Record<string, unknown> };

export class Teardown {
  #destroying?: Promise<DestroyResult>;

  constructor(readonly host: TeardownHost) {}

  /**
   * Marks the session TERMINATING and destroys its kernel in the background;
   * the deferred reply settles once the session is TERMINATED (so a GET
   * right after sees it), with the kernel's final usage.
   */
  async destroy(reason: string): Promise<ReplyLater<DestroyResult>> {
    if (this.#destroying) return replyLater(this.#destroying);
    const h = this.host;
    const row = h.row();
    if (isEnded(row.status)) {
      return replyLater(Promise.resolve({ stats: row.lastStat ?? {} }));
    }
    if (row.status === "PENDING" || row.status === "SCHEDULED") {
      await h.transition("CANCELLED", reason, { terminatedAt: Date.now() });
      return replyLater(Promise.resolve({ stats: {} }));
    }
    const kernelLive = Boolean(row.kernelId && row.agentId);
    const wasAway = Boolean(h.link.awayReason);
    await h.transition("TERMINATING", reason);
    h.link.detach();
    h.runs.end(137);
    const kernelId = row.kernelId ?? "";
    const ended = h.waitStatus(["TERMINATED"], 60_000);
    const destroyed = (async () => {
      let stats: Record<string, number> = {};
      let why = reason;
      if (kernelLive) {
        try {
          const res = await h.agentRef(row.agentId!).ask<
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
      h.self.tell({ type: "kernel.gone", kernelId, reason: why, stats });
      return { stats };
    })();
    this.#destroying = Promise.all([destroyed, ended]).then(([r]) => r);
    return replyLater(this.#destroying);
  }

  /** RESTARTING now; the old kernel goes and a new one comes in the background. */
  async restart(): Promise<ReplyLater<void>> {
    const h = this.host;
    const row = h.row();
    if (row.status !== "RUNNING" || !row.agentId || !row.kernelId) {
      throw new DomainError(
        "generic-bad-request",
        `The session is ${row.status}, not RUNNING.`,
      );
    }
    const away = h.link.awayReason;
    if (away) throw new DomainError("service-unavailable", away);
    const agentId = row.agentId;
    const oldKernel = row.kernelId;
    h.link.detach();
    const kernelId = crypto.randomUUID();
    await h.transition("RESTARTING", "restart requested", { kernelId });
    const running = h.waitStatus(["RUNNING"], 120_000);
    h.agentRef(agentId).ask({
      type: "kernel.destroy",
      kernelId: oldKernel,
      reason: "restart",
    }, { timeoutMs: 30_000 })
      .catch(() => undefined)
      .then(() => h.createKernel(agentId, kernelId));
    return replyLater(running.then((status) => {
      if (status !== "RUNNING") {
        throw new DomainError(
          "kernel-creation-failed",
          `restart ended in ${status}`,
        );
      }
    }));
  }
}
