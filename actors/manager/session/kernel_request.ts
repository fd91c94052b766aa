/**
 * Asking an agent for a session's kernel. The agent answers for a kernel
 * it already made (a resumed creation asks again), so a retry is safe.
 *
 * @module
 */

import type { ActorRef } from "../../runtime/types.ts";
import type { AgentMsg } from "../../protocol/agent.ts";
import type { SessionRow } from "../services.ts";
import { errorText } from "./kernel_link.ts";
import type { SessionMsg } from "./messages.ts";
import { kernelCreateCall } from "./spans.ts";

/** How long an agent may take to create a kernel (image start, pool miss). */
export const KERNEL_CREATE_TIMEOUT_MS = 120_000;

/**
 * Asks `agent` for kernel `kernelId` of `row` and tells `self` `created` or
 * `create-failed`. With `retryUntil` (a resumed creation, the agent possibly
 * not connected yet) a failure is retried every second until then.
 */
export function requestKernel(
  agent: ActorRef<AgentMsg>,
  self: ActorRef<SessionMsg>,
  row: SessionRow,
  agentId: string,
  kernelId: string,
  retryUntil = 0,
): void {
  const create: AgentMsg = {
    type: "kernel.create",
    sessionId: row.id,
    kernelId,
    image: row.image,
    slots: row.requestedSlots,
    environ: row.config.environ ?? {},
    mounts: row.mounts ?? [],
    bootstrapScript: row.config.bootstrapScript,
    scratchBytes: row.config.scratchBytes,
    owner: self.toJSON(),
  };
  kernelCreateCall(
    row,
    agentId,
    kernelId,
    () =>
      agent.ask<{ containerId: string }>(create, {
        timeoutMs: KERNEL_CREATE_TIMEOUT_MS,
      }),
  ).then(
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
          () => requestKernel(agent, self, row, agentId, kernelId, retryUntil),
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
