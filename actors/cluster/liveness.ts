/**
 * Membership transitions and the heartbeat loop: a link coming up makes its
 * peer `up` (a new incarnation replaces the old, which goes `down`), the
 * last link closing makes it `unreachable` (its pending asks fail at once),
 * and the failure detector (or a LEAVE, or a restart) makes it `down`
 * (watches of its actors fire node-down). Every half heartbeat a tick
 * checks the detectors, sends heartbeats, and drops stalled reassemblies;
 * every tenth beat is a PING, whose answer (PONG) gives the link its
 * round-trip time.
 *
 * @module
 */

import { encodeEnvelope } from "./framing.ts";
import type { Link } from "./link.ts";
import type { Member, Membership } from "./membership.ts";
import { CLOSE_SUPERSEDED, Kind } from "./protocol.ts";
import type { RemoteAsks } from "./remote_asks.ts";
import type { WatchTable } from "./remote_watch.ts";
import type { ClusterLog, ClusterStats } from "./stats.ts";
import { currentTraceparent } from "./trace.ts";

/** What {@link Liveness} works with. */
export interface LivenessDeps {
  readonly members: Membership;
  readonly asks: RemoteAsks;
  readonly watches: WatchTable;
  readonly stats: ClusterStats;
  readonly log: ClusterLog;
  /** A link this node dialed closed: dial again (with backoff). */
  redial(link: Link, why: string): void;
  /** Drop stalled reassemblies after this long without a fragment. */
  readonly reassemblyStallMs: number;
}

/** A link's RTT is sampled every this many beats (a PING, answered by a PONG). */
const PROBE_EVERY_BEATS = 10;

/** Up, unreachable, down; see the module doc. */
export class Liveness {
  readonly #d: LivenessDeps;
  #ticks = 0;
  /** Frames sent (or queued) on a link as of the previous beat. */
  readonly #beatMarks = new WeakMap<Link, number>();
  /** Reconnects per node, across incarnations. */
  readonly #reconnects = new Map<string, number>();

  constructor(deps: LivenessDeps) {
    this.#d = deps;
  }

  /** Times `node` came back after being unreachable or down. */
  reconnects(node: string): number {
    return this.#reconnects.get(node) ?? 0;
  }

  /** A handshake succeeded: the peer is up (again). */
  linkUp(link: Link): void {
    const { members, log } = this.#d;
    const now = performance.now();
    let m = members.get(link.peer);
    const known = m !== undefined;
    if (
      m !== undefined && m.status !== "down" &&
      m.incarnation !== link.incarnation
    ) {
      if (link.incarnation < m.incarnation) {
        // A stale incarnation dialing late: keep the newer one.
        link.close(CLOSE_SUPERSEDED, "stale incarnation");
        return;
      }
      this.markDown(m, "restarted");
      m = undefined;
    }
    if (m === undefined || m.status === "down") {
      if (known) this.#countReconnect(link.peer);
      m = members.add(link.peer, link.incarnation, now);
      m.links.push(link);
      log("info", `${link.peer} (incarnation ${link.incarnation}) is up`);
      members.emit("up", {
        node: m.node,
        incarnation: m.incarnation,
        reason: "joined",
      });
      return;
    }
    m.links.push(link);
    m.detector.heartbeat(now);
    if (m.status === "unreachable") {
      m.status = "up";
      this.#countReconnect(m.node);
      // Re-register watches the peer may have missed while we were apart.
      const tp = currentTraceparent();
      for (const [target, w] of this.#d.watches.watchedOn(m.node)) {
        link.sendUrgent(encodeEnvelope([Kind.WATCH, target, w, tp]));
      }
      members.emit("reachable", {
        node: m.node,
        incarnation: m.incarnation,
        reason: "relinked",
      });
    }
  }

  /** A link closed (either side). */
  linkClosed(link: Link, code: number, reason: string): void {
    const { members, log } = this.#d;
    const m = members.get(link.peer);
    if (m !== undefined && m.incarnation === link.incarnation) {
      m.links = m.links.filter((l) => l !== link);
      if (m.links.length === 0 && m.status === "up") {
        m.status = "unreachable";
        this.#d.asks.failNode(m.node, "link lost");
        log("info", `${m.node} unreachable (link closed ${code} ${reason})`);
        members.emit("unreachable", {
          node: m.node,
          incarnation: m.incarnation,
          reason: `closed ${code}`,
        });
      }
    }
    if (link.dialed) this.#d.redial(link, `link closed (${code} ${reason})`);
  }

  /** `m` is down: its links close, its asks fail, watches of its actors fire. */
  markDown(m: Member, reason: string): void {
    if (m.status === "down") return;
    m.status = "down";
    for (const link of m.links) link.close(CLOSE_SUPERSEDED, `down: ${reason}`);
    m.links = [];
    this.#d.asks.failNode(m.node, `node down (${reason})`);
    this.#d.watches.nodeDown(m.node);
    this.#d.log(
      "info",
      `${m.node} (incarnation ${m.incarnation}) is down: ${reason}`,
    );
    this.#d.members.emit("down", {
      node: m.node,
      incarnation: m.incarnation,
      reason,
    });
  }

  /** A PONG: the answer to our PING sent at `sentAt` (performance clock). */
  onPong(link: Link, sentAt: number): void {
    const rtt = performance.now() - sentAt;
    if (rtt >= 0 && rtt < 600_000) {
      link.recordRtt(rtt);
      this.#d.stats.pongsIn++;
    }
  }

  /**
   * Runs every half heartbeat: checks the detectors each time, sends
   * heartbeats every other time. A link that carried any frame since the
   * previous beat skips its heartbeat: the peer's detector counts every
   * frame as a sign of life, so an agent's own 1 s status tells already do
   * the job (at most ~2 beats of silence, well inside the acceptable pause).
   * Every tenth beat of a link is a PING, sent whatever the traffic, so its
   * RTT stays sampled (the probes of different links fall on different
   * ticks, a thousand agents do not answer at once).
   */
  tick(): void {
    const now = performance.now();
    const beat = (this.#ticks++ & 1) === 0;
    const beatNo = this.#ticks >> 1;
    let hb: string | undefined;
    let ping: string | undefined;
    for (const m of this.#d.members.all()) {
      if (m.status === "down") continue;
      if (!m.detector.isAvailable(now)) {
        this.markDown(m, "failure-detector");
        continue;
      }
      for (const link of m.links) {
        if (link.sweepReassembly(now, this.#d.reassemblyStallMs) > 0) {
          this.#d.log("warn", `${m.node}: dropped a stalled large message`);
        }
      }
      const last = m.links[m.links.length - 1];
      if (!beat || last === undefined) continue;
      const sent = last.framesOut + last.queued;
      const mark = this.#beatMarks.get(last);
      if ((beatNo + last.id) % PROBE_EVERY_BEATS === 0) {
        ping ??= encodeEnvelope([Kind.PING, now]);
        last.sendUrgent(ping);
      } else if (mark === undefined || mark === sent) {
        hb ??= encodeEnvelope([Kind.HEARTBEAT, now]);
        last.sendUrgent(hb);
      } else {
        this.#beatMarks.set(last, sent);
        continue;
      }
      this.#d.stats.heartbeatsOut++;
      this.#beatMarks.set(last, sent + 1);
    }
  }

  #countReconnect(node: string): void {
    this.#reconnects.set(node, (this.#reconnects.get(node) ?? 0) + 1);
  }
}
