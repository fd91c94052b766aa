/**
 * Agents and pending sessions for the scheduling policies' tests.
 *
 * @module
 */
import type { PendingSession, SchedulableAgent } from "./types.ts";

/** An agent offering `capacity`, `occupied` of it in use. */
export const agent = (
  id: string,
  capacity: Record<string, number>,
  occupied: Record<string, number> = {},
  extra: Partial<SchedulableAgent> = {},
): SchedulableAgent => ({ id, capacity, occupied, ...extra });

/** A session of `accessKey` asking for `requestedSlots`, created at `createdAt`. */
export const sess = (
  id: string,
  requestedSlots: Record<string, number>,
  createdAt = 0,
  accessKey = "AK",
): PendingSession => ({ id, accessKey, requestedSlots, createdAt });
