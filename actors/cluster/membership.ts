/**
 * The member table: which nodes this node knows, in which incarnation, and
 * whether they are up, unreachable (no link right now, not yet declared
 * down) or down. Also the event hub the rest of the system observes
 * (`up`, `down`, ...), e.g. the manager tracking its agents.
 *
 * @module
 */

import type { RefusalCode } from "./errors.ts";
import {
  type FailureDetectorOptions,
  PhiAccrualFailureDetector,
} from "./failure_detector.ts";
import type { Link } from "./link.ts";

/** Where a member stands. */
export type MemberStatus = "up" | "unreachable" | "down";

/** One incarnation of a peer node. */
export interface Member {
  readonly node: string;
  /** Start time of the peer process: a restart is a new incarnation. */
  readonly incarnation: number;
  status: MemberStatus;
  /** Open links, newest last; messages go out on the newest. */
  links: Link[];
  readonly detector: PhiAccrualFailureDetector;
}

/** Payload of `up`, `down`, `unreachable` and `reachable`. */
export interface MemberEvent {
  node: string;
  incarnation: number;
  /** Why (for `down`: `failure-detector`, `left`, `restarted`, `closed`). */
  reason: string;
}

/** Payload of `refused`: a handshake failed (in either direction). */
export interface RefusedEvent {
  code: RefusalCode;
  detail: string;
  /** `in`: we refused a peer; `out`: a peer refused us. */
  direction: "in" | "out";
  /** The URL dialed, for `out`. */
  url?: string;
}

/** A message to a remote node that was not sent. */
export interface RemoteDeadLetter {
  node: string;
  path: string;
  message: unknown;
  reason: "node-unreachable" | "backpressure";
}

/** Events of a cluster and their payloads. */
export interface ClusterEvents {
  up: MemberEvent;
  down: MemberEvent;
  unreachable: MemberEvent;
  reachable: MemberEvent;
  refused: RefusedEvent;
  deadLetter: RemoteDeadLetter;
}

/** Public snapshot of a member. */
export interface MemberInfo {
  node: string;
  incarnation: number;
  status: MemberStatus;
}

type Listeners = {
  [K in keyof ClusterEvents]: Set<(e: ClusterEvents[K]) => void>;
};

/** Member table plus event listeners. */
export class Membership {
  readonly #members = new Map<string, Member>();
  readonly #listeners: Listeners = {
    up: new Set(),
    down: new Set(),
    unreachable: new Set(),
    reachable: new Set(),
    refused: new Set(),
    deadLetter: new Set(),
  };

  constructor(readonly detectorOptions: FailureDetectorOptions) {}

  get(node: string): Member | undefined {
    return this.#members.get(node);
  }

  /** Start tracking a (new incarnation of a) node; replaces any older record. */
  add(node: string, incarnation: number, now: number): Member {
    const m: Member = {
      node,
      incarnation,
      status: "up",
      links: [],
      detector: new PhiAccrualFailureDetector(this.detectorOptions),
    };
    m.detector.heartbeat(now);
    this.#members.set(node, m);
    return m;
  }

  /** The link messages to `node` go out on: its newest, while it is up. */
  linkTo(node: string): Link | undefined {
    const m = this.#members.get(node);
    if (m === undefined || m.status !== "up") return undefined;
    return m.links[m.links.length - 1];
  }

  all(): IterableIterator<Member> {
    return this.#members.values();
  }

  snapshot(): MemberInfo[] {
    return [...this.#members.values()].map(({ node, incarnation, status }) => ({
      node,
      incarnation,
      status,
    }));
  }

  /** Subscribe; returns the unsubscribe function. */
  on<K extends keyof ClusterEvents>(
    event: K,
    fn: (e: ClusterEvents[K]) => void,
  ): () => void {
    const set = this.#listeners[event] as Set<(e: ClusterEvents[K]) => void>;
    set.add(fn);
    return () => set.delete(fn);
  }

  /** Notify listeners; a throwing listener is logged, not propagated. */
  emit<K extends keyof ClusterEvents>(
    event: K,
    payload: ClusterEvents[K],
  ): void {
    for (
      const fn of this.#listeners[event] as Set<(e: ClusterEvents[K]) => void>
    ) {
      try {
        fn(payload);
      } catch (err) {
        console.error(`cluster: ${event} listener failed:`, err);
      }
    }
  }

  hasListeners(event: keyof ClusterEvents): boolean {
    return this.#listeners[event].size > 0;
  }
}
