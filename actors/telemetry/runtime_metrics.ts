/**
 * Collectors of what the runtime, the cluster and the process already count,
 * sampled into a {@link Registry} at each exposition: live actors,
 * mailboxes above a depth threshold, dead letters by reason, per-peer link
 * round-trip time, reconnects and status, and process memory.
 *
 * The cluster is read through the small {@link PeerSource} shape (what
 * `Cluster.peers()` and `Cluster.stats` answer), so this module imports
 * no transport.
 *
 * @module
 */

import type { ActorSystem } from "../runtime/mod.ts";
import type { Registry } from "./registry.ts";

/** Options of {@link collectActorSystem}. */
export interface ActorSystemMetricsOptions {
  /** Mailboxes with at least this many waiting messages are reported. @default {100} */
  mailboxThreshold?: number;
  /** Mailboxes reported at most (the deepest first). @default {20} */
  maxMailboxes?: number;
}

/** Samples `system` into `registry` at each exposition; returns the undo. */
export function collectActorSystem(
  registry: Registry,
  system: ActorSystem,
  options: ActorSystemMetricsOptions = {},
): () => void {
  const threshold = options.mailboxThreshold ?? 100;
  const max = options.maxMailboxes ?? 20;
  const actors = registry.gauge("actor_live", {
    help: "Live actors on this node.",
  });
  const depth = registry.gauge("actor_mailbox_depth", {
    help:
      `Messages waiting in mailboxes holding at least ${threshold} (the ${max} deepest).`,
    labels: ["path"],
    maxSeries: max + 1,
  });
  const dead = registry.counter("actor_dead_letters_total", {
    help: "Messages that could not be delivered, by reason.",
    labels: ["reason"],
    maxSeries: 40,
  });
  return registry.collect(() => {
    actors.set(undefined, system.actorCount);
    const deep = [...system.mailboxDepths(threshold)]
      .sort((a, b) => b.depth - a.depth).slice(0, max);
    depth.reset();
    for (const d of deep) depth.set({ path: d.path }, d.depth);
    for (const [reason, n] of Object.entries(system.deadLetters.byReason())) {
      dead.sample({ reason }, n);
    }
  });
}

/** One peer as a cluster reports it. */
export interface PeerSample {
  node: string;
  status: string;
  /** Round trip of the last heartbeat, ms. */
  rttMs: number | undefined;
  reconnects: number;
  queued?: number;
}

/** What {@link collectPeers} reads: `Cluster.peers()` and `Cluster.stats`. */
export interface PeerSource {
  peers(): PeerSample[];
  readonly stats?: { readonly deadLetters?: number };
}

/** Samples a cluster's links into `registry`; returns the undo. */
export function collectPeers(
  registry: Registry,
  source: PeerSource,
  options: { maxPeers?: number } = {},
): () => void {
  const maxSeries = options.maxPeers ?? 1000;
  const rtt = registry.gauge("cluster_link_rtt_seconds", {
    help: "Round trip of the last heartbeat on the link to each peer.",
    labels: ["peer"],
    maxSeries,
  });
  const reconnects = registry.counter("cluster_reconnects_total", {
    help: "Times each peer came back after being unreachable or down.",
    labels: ["peer"],
    maxSeries,
  });
  const up = registry.gauge("cluster_peer_up", {
    help: "1 while the peer is up (linked), else 0.",
    labels: ["peer"],
    maxSeries,
  });
  const queued = registry.gauge("cluster_link_queued_messages", {
    help: "Envelopes queued towards each peer.",
    labels: ["peer"],
    maxSeries,
  });
  const dead = registry.counter("cluster_dead_letters_total", {
    help: "Messages to unreachable peers or over the queue bound.",
  });
  return registry.collect(() => {
    rtt.reset();
    up.reset();
    queued.reset();
    for (const p of source.peers()) {
      const peer = { peer: p.node };
      if (p.rttMs !== undefined) rtt.set(peer, p.rttMs / 1000);
      reconnects.sample(peer, p.reconnects);
      up.set(peer, p.status === "up" ? 1 : 0);
      queued.set(peer, p.queued ?? 0);
    }
    dead.sample(undefined, source.stats?.deadLetters ?? 0);
  });
}

/** Samples the process's memory and uptime into `registry`; returns the undo. */
export function collectProcess(registry: Registry): () => void {
  const rss = registry.gauge("process_resident_memory_bytes", {
    help: "Resident memory of the process.",
  });
  const heapUsed = registry.gauge("deno_heap_used_bytes", {
    help: "V8 heap in use.",
  });
  const heapTotal = registry.gauge("deno_heap_total_bytes", {
    help: "V8 heap allocated.",
  });
  const external = registry.gauge("deno_external_memory_bytes", {
    help: "Memory of objects outside the V8 heap (buffers).",
  });
  const start = registry.gauge("process_start_time_seconds", {
    help: "When the process started, seconds since the epoch.",
  });
  const startedAt = (Date.now() - performance.now()) / 1000;
  return registry.collect(() => {
    const m = Deno.memoryUsage();
    rss.set(undefined, m.rss);
    heapUsed.set(undefined, m.heapUsed);
    heapTotal.set(undefined, m.heapTotal);
    external.set(undefined, m.external);
    start.set(undefined, Math.round(startedAt));
  });
}
