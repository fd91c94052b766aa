/**
 * A session actor starting from its stored row (first start, a manager
 * restart, or a restart by its supervisor) picks up where the previous
 * incarnation left off: it tells the scheduler what the session holds or
 * waits for, asks again for a kernel being created (the agent answers for
 * one it already made), finishes a destroy, or re-watches a running kernel.
 *
 * @module
 */

import type { ActorRef } from "../../runtime/types.ts";
import { isEnded, type SessionStatus } from "../lifecycle.ts";
import type { SchedulerMsg } from "../scheduler.ts";
import { pausedSlots } from "../../../policies/cost/idle_pause.ts";
import type { SessionRow } from "../services.ts";
import {
  errorText,
  KERNEL_REJOIN_GRACE_MS,
  type KernelLink,
} from "./kernel_link.ts";
import type { SessionMsg } from "./messages.ts";

/** Statuses in which the session's kernel is being made. */
export const CREATING: ReadonlySet<SessionStatus> = new Set<SessionStatus>([
  "SCHEDULED",
  "PREPARING",
  "RESTARTING",
]);

/** Statuses in which the session holds a kernel the link watches. */
const LIVE_KERNEL = new Set<SessionStatus>(["RUNNING", "SUSPENDED"]);

/** What resuming needs of the session actor. */
export interface ResumeHost {
  readonly self: ActorRef<SessionMsg>;
  readonly link: KernelLink;
  transition(status: SessionStatus, reason: string): Promise<void>;
  createKernel(agentId: string, kernelId: string, retryUntil?: number): void;
}

/** Re-enqueues a PENDING session, or re-books the room a placed one holds. */
export function announce(
  scheduler: ActorRef<SchedulerMsg>,
  row: SessionRow,
): void {
  if (row.status === "PENDING") {
    scheduler.tell({
      type: "enqueue",
      sessionId: row.id,
      accessKey: row.accessKey,
      slots: row.requestedSlots,
      scalingGroup: row.scalingGroup,
      createdAt: row.createdAt,
      // Held back by the cost budget when created: the keypair's next
      // check lets it go once it fits (keypair_cost.ts).
      hold: row.config.costHold ? String(row.config.costHold) : undefined,
      requiredHosts: [
        ...new Set((row.mounts ?? []).flatMap((m) => m.host ? [m.host] : [])),
      ],
    });
  } else if (row.agentId && !isEnded(row.status)) {
    scheduler.tell({
      type: "placed",
      sessionId: row.id,
      agentId: row.agentId,
      // A suspended session's frozen container holds its memory only.
      slots: row.status === "SUSPENDED"
        ? pausedSlots(row.requestedSlots)
        : row.requestedSlots,
    });
  }
}

/** Picks up the work `row` shows in the middle. */
export function resume(host: ResumeHost, row: SessionRow): void {
  const { agentId, kernelId } = row;
  if (agentId && kernelId && CREATING.has(row.status)) {
    const retryUntil = Date.now() + KERNEL_REJOIN_GRACE_MS;
    const go = row.status === "SCHEDULED"
      ? host.transition("PREPARING", "creating kernel (resumed)")
      : Promise.resolve();
    void go.then(
      () => host.createKernel(agentId, kernelId, retryUntil),
      (err) =>
        host.self.tell({
          type: "create-failed",
          reason: `kernel creation failed: ${errorText(err)}`,
        }),
    );
    return;
  }
  if (row.status === "TERMINATING") {
    host.self.tell({
      type: "destroy",
      reason: row.statusInfo ?? "terminating (resumed)",
    });
    return;
  }
  if (agentId && kernelId && LIVE_KERNEL.has(row.status)) {
    // If the agent is not connected (yet), the watch answers node-down at
    // once and the session waits for the agent (kernel_link.ts).
    host.link.restored = true;
    host.link.attach(agentId, kernelId);
    // A frozen kernel gets it once thawed (suspend.ts).
    if (row.status === "SUSPENDED") return;
    // Runs the previous incarnation started are lost: stop them, so the
    // kernel is free for the next one. Told now, it waits in the link's
    // order before any exec; a down agent drops it (harmless).
    host.link.ref!.tell({ type: "interrupt" });
  }
}
