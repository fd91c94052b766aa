/**
 * What the cluster counts and reports: totals since start
 * ({@link ClusterStats}, a plain object that can be copied or exported as
 * is) and a per-peer view ({@link PeerInfo}: link round-trip time,
 * reconnects, queues). A metrics module reads these; the cluster imports
 * no telemetry library. Also the rate-limited logger for peers' bad input.
 *
 * @module
 */

import type { LinkCounters } from "./link.ts";
import type { MemberStatus } from "./membership.ts";

/** Counters, for tests, metrics and the admin API. */
export interface ClusterStats extends LinkCounters {
  framesIn: number;
  framesOut: number;
  /** Whole frames dropped (not JSON, binary junk, too large, a bad fragment, a reassembled message that is not UTF-8...). */
  framesDropped: number;
  /** Fragments refused: bad header, out of order, of an unknown message, over a bound (also counted in `framesDropped`). */
  fragmentsDropped: number;
  /** Single envelopes dropped (malformed, unknown kind, failed a path schema, stray reply). */
  envelopesDropped: number;
  tellsOut: number;
  tellsIn: number;
  asksOut: number;
  asksIn: number;
  /** Tells to unreachable nodes or over the queue bound. */
  deadLetters: number;
  handshakesRefused: number;
  /** Heartbeats sent (pings included), and pings answered (each answer is one RTT sample). */
  heartbeatsOut: number;
  pongsIn: number;
}

/** Zeroed counters. */
export function newStats(): ClusterStats {
  return {
    framesIn: 0,
    framesOut: 0,
    framesDropped: 0,
    fragmentsDropped: 0,
    envelopesDropped: 0,
    tellsOut: 0,
    tellsIn: 0,
    asksOut: 0,
    asksIn: 0,
    deadLetters: 0,
    handshakesRefused: 0,
    heartbeatsOut: 0,
    pongsIn: 0,
    largeMessagesOut: 0,
    largeMessagesIn: 0,
    fragmentsOut: 0,
    fragmentsIn: 0,
  };
}

/** One peer as {@link Cluster.peers} reports it. */
export interface PeerInfo {
  node: string;
  incarnation: number;
  status: MemberStatus;
  /** Round trip of the last heartbeat answered on the link in use (ms); undefined before the first. */
  rttMs: number | undefined;
  /** Moving average of the round trips on that link (ms). */
  rttAvgMs: number | undefined;
  /** Times this node came back: relinked after being unreachable, or rejoined (restarted or not) after being down. */
  reconnects: number;
  /** Open links to it (usually 1; 2 while a redial overlaps). */
  links: number;
  /** Envelopes queued towards it, and bytes of large messages among them. */
  queued: number;
  queuedLargeBytes: number;
  /** Bytes handed to the socket and not yet written. */
  bufferedBytes: number;
  /** Large messages from it being reassembled now. */
  reassembling: number;
}

/** Where the cluster logs. */
export type ClusterLog = (level: "info" | "warn", message: string) => void;

/** Warnings about peers' bad input, at most `perSecond` a second, so a flood of junk cannot flood the log. */
export function rateLimited(
  log: ClusterLog,
  perSecond = 20,
): (message: string) => void {
  let second = 0;
  let left = perSecond;
  return (message) => {
    const now = Math.floor(Date.now() / 1000);
    if (now !== second) {
      second = now;
      left = perSecond;
    }
    if (left-- > 0) log("warn", message);
  };
}
