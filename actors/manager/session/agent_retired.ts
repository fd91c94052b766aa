/**
 * A session whose agent is stopped on purpose (scale-in at a drain
 * deadline, an administrator's stop, an agent lost for good) ends at once,
 * in ERROR, with the true reason: the manager knows the kernel will not
 * come back, so it does not wait out the rejoin grace (kernel_link.ts)
 * answering "kernel unreachable" meanwhile.
 *
 * The kernel link is dropped first (no death watch, so no away period),
 * the current run ends with the reason on stderr, and the kernel is asked
 * for its final usage while its agent still runs (briefly: an agent that
 * cannot answer is about to go anyway); then the session records the
 * usage and goes to ERROR, which publishes `session_error` with the reason
 * on the event stream, and the agent is told to end the kernel (the
 * driver's forced stop removes what is left).
 *
 * @module
 */

import type { ActorRef } from "../../runtime/types.ts";
import { type ReplyLater, replyLater } from "../../runtime/reply_later.ts";
import type { AgentMsg, KernelMsg } from "../../protocol/agent.ts";
import { DomainError } from "../errors.ts";
import { isEnded, type SessionStatus } from "../lifecycle.ts";
import type { SessionStorePort } from "../services.ts";
import { errorText } from "./kernel_link.ts";
import type { Waited } from "./status_waiters.ts";
import type { SessionHost } from "./host.ts";

/** How long the kernel gets to report its final usage. */
const FINAL_USAGE_MS = 1_000;

/** What the retirement needs of its session actor. */
export interface RetireHost extends SessionHost {
  waitStatus(statuses: SessionStatus[], timeoutMs: number): Promise<Waited>;
  agentRef(agentId: string): ActorRef<AgentMsg>;
  kernelRef(agentId: string, kernelId: string): ActorRef<KernelMsg>;
}

/** Answer of `agent.retired`: whether this session was on that agent (and has ended). */
export type Retired = boolean;

export class AgentRetirement {
  /** The reason, once the session is ending because its agent goes. */
  ending?: string;
  #ended?: Promise<Retired>;

  constructor(
    readonly host: RetireHost,
    readonly store: Pick<SessionStorePort, "recordUsage">,
  ) {}

  /** Refuses requests to a session that is ending because its agent goes. */
  assertNotEnding(): void {
    if (this.ending) {
      throw new DomainError(
        "generic-bad-request",
        `The session is ending: ${this.ending}`,
      );
    }
  }

  /**
   * Agent `agentId` is being stopped on purpose for `reason`. A session not
   * placed there (or already ended, or being destroyed) answers false at
   * once; one placed there answers true once it is ERROR.
   */
  retire(agentId: string, reason: string): Retired | ReplyLater<Retired> {
    if (this.#ended) return replyLater(this.#ended);
    const h = this.host;
    const row = h.row();
    if (
      row.agentId !== agentId || isEnded(row.status) ||
      row.status === "PENDING" || row.status === "TERMINATING"
    ) {
      return false;
    }
    this.ending = reason;
    const kernelId = row.kernelId;
    const away = Boolean(h.link.awayReason);
    h.link.detach();
    h.runs.end(137, `\nkernel ended: ${reason}\n`);
    this.#ended = h.waitStatus(["ERROR"], 30_000).then(() => true);
    void (async () => {
      let stats: Record<string, number> | undefined;
      if (kernelId && !away) {
        try {
          stats = await h.kernelRef(agentId, kernelId).ask<
            Record<string, number>
          >({ type: "stats" }, { timeoutMs: FINAL_USAGE_MS });
        } catch { /* the agent could not report: no final usage */ }
      }
      h.self.tell({ type: "agent.retired.done", agentId, reason, stats });
    })();
    return replyLater(this.#ended);
  }

  /** The agent answered (or could not): record the usage, then ERROR. */
  async finish(
    msg: { agentId: string; reason: string; stats?: Record<string, number> },
  ): Promise<void> {
    const h = this.host;
    const row = h.row();
    if (isEnded(row.status)) return;
    const kernelId = row.kernelId;
    const stats = msg.stats && Object.keys(msg.stats).length
      ? msg.stats
      : undefined;
    if (stats) {
      try {
        await this.store.recordUsage(row, stats);
      } catch (err) {
        // Metering must not keep a session from ending.
        console.error(
          `session ${row.id}: usage not recorded: ${errorText(err)}`,
        );
      }
    }
    await h.transition("ERROR", msg.reason, {
      terminatedAt: Date.now(),
      lastStat: stats ?? row.lastStat,
    });
    if (kernelId) {
      h.agentRef(msg.agentId).tell({
        type: "kernel.destroy",
        kernelId,
        reason: msg.reason,
      });
    }
  }
}
