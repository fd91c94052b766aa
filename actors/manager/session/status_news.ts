/**
 * Who hears of a session's new status besides its waiters: the event
 * stream (`GET /events/session`) and its keypair (slot accounting).
 *
 * @module
 */

import type { ManagerServices, SessionRow } from "../services.ts";

/** Tells the event stream and the keypair that `row` reached its status. */
export function announceStatus(
  svc: Pick<ManagerServices, "events" | "keypairs">,
  row: SessionRow,
  reason: string,
): void {
  const status = row.status;
  svc.events.publish({
    event: `session_${status.toLowerCase()}`,
    data: {
      sessionId: row.id,
      sessionName: row.name,
      accessKey: row.accessKey,
      status,
      reason,
    },
  });
  svc.keypairs.tell(row.accessKey, {
    type: "session.status",
    sessionId: row.id,
    status,
    slots: row.occupiedSlots,
  });
}
