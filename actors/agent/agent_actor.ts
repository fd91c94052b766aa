/**
 * AgentActor (`/user/node/agent` on an agent node): owns this machine's kernels.
 * It reports capacity and kernels to the manager's registry (join, then a
 * heartbeat every second), creates kernels it has room for (refusing the
 * rest), and supervises one KernelActor per container.
 *
 * On start it re-adopts the containers a previous incarnation left running
 * (found by their agent label), and removes those whose session the manager
 * no longer knows.
 *
 * @module
 */

import { ownerAddress } from "./channel_relay.ts";
import {
  Actor,
  type ActorRef,
  type SupervisorStrategy,
} from "../runtime/types.ts";
import { ReplyLater, replyLater } from "../runtime/reply_later.ts";
import type {
  AgentInfo,
  KernelReport,
  RegistryMsg,
} from "../protocol/manager.ts";
import { AgentMsg } from "../protocol/agent.ts";
import { KernelActor } from "./kernel_actor.ts";
import { KernelRequestError } from "./kernel/errors.ts";
import type { KernelHost, LaunchedKernel } from "./kernel_host.ts";
import { containerSpan, createSpan } from "./telemetry.ts";
import { pausedSlots } from "../../policies/cost/idle_pause.ts";

export interface AgentOptions {
  id: string;
  addr: string;
  region: string;
  scalingGroup: string;
  version: string;
  heartbeatMs: number;
  registry: ActorRef<RegistryMsg>;
  host: KernelHost;
  /** Storage hosts this machine sees (storage_sight.ts). @default {() => []} */
  storageHosts?: () => string[];
}

/** Messages only this node sends its agent actor (timers, node events). */
export type AgentInternalMsg = { type: "heartbeat" } | {
  type: "kernel-ended";
  kernelId: string;
} | {
  /** End every kernel now (a drain's deadline passed), telling each session why. */
  type: "retire-all";
  reason: string;
} | {
  /** A launch finished (created outside the mailbox): hold the kernel now. */
  type: "kernel-launched";
  kernelId: string;
  kernel: LaunchedKernel | null;
  held: () => void;
} | {
  /**
   * The manager node came up again (a new incarnation: it restarted). Join
   * it afresh, so it learns this agent's kernels and their sessions re-watch
   * them (node.ts tells this on the cluster's `up` event).
   */
  type: "rejoin";
};

interface Held {
  kernel: LaunchedKernel;
  ref: ActorRef;
  slots: Record<string, number>;
}

export class AgentActor extends Actor<AgentMsg | AgentInternalMsg> {
  #kernels = new Map<string, Held>();
  /**
   * Kernels being launched, with the slots reserved for them: launches run
   * outside the mailbox (a cold one takes ~0.5 s; held in the mailbox it
   * serialised every create and destroy of the agent behind it).
   */
  #launching = new Map<
    string,
    { slots: Record<string, number>; reply: Promise<{ containerId: string }> }
  >();
  #draining = false;
  #timer?: ReturnType<typeof setInterval>;
  #joined = false;

  constructor(readonly opts: AgentOptions) {
    super();
  }

  /**
   * Kernels are not restarted: a container's state cannot be recreated. A
   * request the runner refused (a missing file, a bad path) already failed
   * the caller's ask; the kernel itself is fine and carries on.
   */
  override supervisorStrategy(): SupervisorStrategy {
    return {
      kind: "one_for_one",
      // A full disk (KernelStorageFullError) is such a refusal too.
      decide: (err) => err instanceof KernelRequestError ? "resume" : "stop",
    };
  }

  override async preStart(): Promise<void> {
    const adopted = await this.opts.host.adopt();
    for (const k of adopted) this.#hold(k);
    if (adopted.length > 0) {
      console.error(
        `agent ${this.opts.id}: re-adopted ${adopted.length} running kernel${
          adopted.length === 1 ? "" : "s"
        } (state kept)`,
      );
    }
    this.opts.host.startPool?.();
    const self = this.ctx.self;
    this.#timer = setInterval(
      () => self.tell({ type: "heartbeat" }),
      this.opts.heartbeatMs,
    );
    await this.#join();
  }

  override postStop(): void {
    clearInterval(this.#timer);
  }

  async receive(raw: AgentMsg | AgentInternalMsg): Promise<unknown> {
    if (raw.type === "heartbeat") {
      if (!this.#joined) return await this.#join();
      this.opts.registry.tell({
        type: "agent.heartbeat",
        info: await this.#info(),
      });
      return;
    }
    if (raw.type === "rejoin") {
      this.#joined = false;
      return await this.#join();
    }
    if (raw.type === "retire-all") {
      // Each kernel actor tells its session and stops; kernel-ended then
      // removes its container.
      for (const h of this.#kernels.values()) {
        h.ref.tell({ type: "retire", reason: raw.reason });
      }
      return;
    }
    if (raw.type === "kernel-ended") {
      const held = this.#kernels.get(raw.kernelId);
      if (held) {
        this.#kernels.delete(raw.kernelId);
        // Outside the mailbox: removing a container takes a while.
        this.opts.host.destroy(held.kernel).catch(() => undefined);
      }
      return;
    }
    if (raw.type === "kernel-launched") {
      this.#launching.delete(raw.kernelId);
      if (raw.kernel) this.#hold(raw.kernel);
      raw.held();
      return;
    }
    const msg = AgentMsg.parse(raw);
    switch (msg.type) {
      case "kernel.create":
        return this.#create(msg);
      case "kernel.destroy":
        return this.#destroy(msg.kernelId);
      case "kernel.list":
        return this.#reports();
      case "images.list":
        return await this.opts.host.imageDetails?.() ?? [];
      case "kernel.logs":
        return await this.#logs(msg.kernelId);
      case "kernel.pause":
        return await this.#pause(msg.kernelId, true);
      case "kernel.resume":
        return await this.#pause(msg.kernelId, false);
      case "agent.drain":
        this.#draining = msg.draining;
        return { draining: this.#draining };
      case "agent.forget-unknown":
        return await this.#forgetUnknown(msg.knownKernels);
    }
  }

  /** Number of live kernels, launches included (the node's drain-on-SIGTERM waits for zero). */
  get kernelCount(): number {
    return this.#kernels.size + this.#launching.size;
  }

  async #join(): Promise<void> {
    try {
      const res = await this.opts.registry.ask<
        { ok: boolean; reason?: string; knownKernels: string[] }
      >(
        { type: "agent.join", info: await this.#info() },
        { timeoutMs: 5000 },
      );
      // Refused (e.g. an unknown scaling group): not joined, retried.
      if (!res.ok) throw new Error(`refused: ${res.reason ?? "no reason"}`);
      this.#joined = true;
      await this.#forgetUnknown(res.knownKernels);
      this.#announce();
    } catch (err) {
      console.error(
        `agent ${this.opts.id}: join failed, retrying with the next heartbeat: ${err}`,
      );
    }
  }

  /**
   * Tells the owner of every kernel still held after a (re)join that its
   * kernel lives here again. The manager declared this node down while the
   * agent was away (a restart is a new incarnation), so each session actor
   * watching a kernel here got `Terminated(node-down)`; this message lets it
   * re-watch the re-adopted kernel instead of ending the session.
   */
  #announce(): void {
    for (const h of this.#kernels.values()) {
      this.ctx.system.refFor(h.kernel.owner).tell({
        type: "kernel.adopted",
        kernelId: h.kernel.kernelId,
        agentId: this.opts.id,
        containerId: h.kernel.containerId,
      });
    }
  }

  async #forgetUnknown(known: string[]): Promise<{ removed: string[] }> {
    const keep = new Set(known);
    const removed: string[] = [];
    for (const [id] of this.#kernels) {
      if (!keep.has(id)) {
        const r = this.#destroy(id);
        if (r instanceof ReplyLater) await r.promise;
        removed.push(id);
      }
    }
    return { removed };
  }

  #free(): Record<string, number> {
    const free = { ...this.opts.host.capacity() };
    const taken = [
      ...[...this.#kernels.values()].map((h) => h.slots),
      ...[...this.#launching.values()].map((l) => l.slots),
    ];
    for (const slots of taken) {
      for (const [k, v] of Object.entries(slots)) {
        free[k] = (free[k] ?? 0) - v;
      }
    }
    return free;
  }

  /**
   * Checks room, reserves it, and launches outside the mailbox: the answer
   * comes (replyLater) once the kernel is held here. Creates and destroys
   * of other kernels go on meanwhile.
   */
  #create(
    msg: Extract<AgentMsg, { type: "kernel.create" }>,
  ): { containerId: string } | ReplyLater<{ containerId: string }> {
    if (this.#draining) throw new Error(`agent ${this.opts.id} is draining`);
    const held = this.#kernels.get(msg.kernelId);
    if (held) return { containerId: held.kernel.containerId };
    const pending = this.#launching.get(msg.kernelId);
    if (pending) return replyLater(pending.reply);
    const free = this.#free();
    for (const [slot, amount] of Object.entries(msg.slots)) {
      if (amount > (free[slot] ?? 0) + 1e-9) {
        throw new Error(
          `no room on agent ${this.opts.id}: ${slot} requested ${amount}, free ${
            free[slot] ?? 0
          }`,
        );
      }
    }
    const self = this.ctx.self;
    const kernelId = msg.kernelId;
    const settle = (kernel: LaunchedKernel | null) =>
      new Promise<void>((held) =>
        self.tell({ type: "kernel-launched", kernelId, kernel, held })
      );
    const reply = createSpan(
      msg,
      this.opts.id,
      () =>
        containerSpan(
          msg,
          this.opts.id,
          () =>
            this.opts.host.launch({
              sessionId: msg.sessionId,
              kernelId,
              image: msg.image,
              slots: msg.slots,
              environ: msg.environ,
              mounts: msg.mounts,
              scratchBytes: msg.scratchBytes,
              owner: ownerAddress(msg.owner),
            }),
        ),
    ).then(
      async (kernel) => {
        await settle(kernel);
        return { containerId: kernel.containerId };
      },
      async (err) => {
        await settle(null);
        throw err;
      },
    );
    this.#launching.set(kernelId, { slots: msg.slots, reply });
    return replyLater(reply);
  }

  #hold(kernel: LaunchedKernel): void {
    const owner = this.ctx.system.refFor(kernel.owner);
    const host = this.opts.host;
    const ref = this.ctx.spawn(
      () =>
        new KernelActor(
          kernel.kernelId,
          kernel.conn,
          owner,
          () => host.stats(kernel),
          host.ended ? (why) => host.ended!(kernel, why) : undefined,
        ),
      { name: kernel.kernelId },
    );
    this.ctx.watch(ref);
    // An adopted frozen kernel holds its memory only, as before the restart.
    const slots = kernel.paused ? pausedSlots(kernel.slots) : kernel.slots;
    this.#kernels.set(kernel.kernelId, { kernel, ref, slots });
  }

  override onTerminated(t: { ref: ActorRef }): void {
    for (const [id, h] of this.#kernels) {
      if (h.ref.path === t.ref.path) {
        this.ctx.self.tell({ type: "kernel-ended", kernelId: id });
      }
    }
  }

  /**
   * Forgets the kernel at once (its slots are free for the next create)
   * and removes its container outside the mailbox; the answer, with the
   * last usage figures, comes once the container is gone. A kernel still
   * being launched is destroyed once it is held.
   */
  #destroy(
    kernelId: string,
  ):
    | { stats: Record<string, number> }
    | ReplyLater<
      { stats: Record<string, number> }
    > {
    const pending = this.#launching.get(kernelId);
    if (pending) {
      const self = this.ctx.self;
      return replyLater(
        pending.reply.catch(() => undefined).then(() =>
          self.ask<{ stats: Record<string, number> }>({
            type: "kernel.destroy",
            kernelId,
            reason: "user-requested",
          }, { timeoutMs: 120_000 })
        ),
      );
    }
    const held = this.#kernels.get(kernelId);
    if (!held) return { stats: {} }; // idempotent
    this.#kernels.delete(kernelId);
    this.ctx.unwatch(held.ref);
    const host = this.opts.host;
    const stats = host.stats(held.kernel).catch(() => ({}));
    const stopped = stats.then(() => this.ctx.stop(held.ref));
    return replyLater((async () => {
      const figures = await stats;
      await stopped;
      await host.destroy(held.kernel);
      return { stats: figures };
    })());
  }

  /**
   * Freezes or thaws a kernel. Frozen, it holds its memory only: the
   * manager gave its other slots to others meanwhile, so a thaw first
   * checks they fit again. Failures are refusals (the agent carries on).
   */
  async #pause(kernelId: string, pause: boolean): Promise<{ paused: boolean }> {
    const held = this.#kernels.get(kernelId);
    const host = this.opts.host;
    if (!held) throw new KernelPauseRefused(`no kernel ${kernelId} here`);
    if (!host.pause || !host.resume) {
      throw new KernelPauseRefused(`agent ${this.opts.id} cannot pause`);
    }
    const full = held.kernel.slots;
    if (!pause) {
      const free = this.#free();
      for (const [slot, amount] of Object.entries(full)) {
        const more = amount - (held.slots[slot] ?? 0);
        if (more > (free[slot] ?? 0) + 1e-9) {
          throw new KernelPauseRefused(
            `no room on agent ${this.opts.id} to resume: ${slot} needs ${more}, free ${
              free[slot] ?? 0
            }`,
          );
        }
      }
    }
    try {
      await (pause ? host.pause(held.kernel) : host.resume(held.kernel));
    } catch (e) {
      throw new KernelPauseRefused(e instanceof Error ? e.message : String(e));
    }
    held.slots = pause ? pausedSlots(full) : { ...full };
    return { paused: pause };
  }

  /**
   * A kernel's container log; `logs: null` for a kernel not held here (it
   * just ended), `error` when the engine could not read it. Answers, not
   * throws: a throw would fail this actor, not just the request.
   */
  async #logs(
    kernelId: string,
  ): Promise<{ logs: string | null; error?: string }> {
    const held = this.#kernels.get(kernelId);
    if (!held) return { logs: null };
    try {
      return { logs: (await this.opts.host.logs?.(held.kernel)) ?? "" };
    } catch (e) {
      return { logs: null, error: e instanceof Error ? e.message : String(e) };
    }
  }

  #reports(): KernelReport[] {
    return [...this.#kernels.values()].map((h) => ({
      kernelId: h.kernel.kernelId,
      sessionId: h.kernel.sessionId,
      containerId: h.kernel.containerId,
      status: "RUNNING",
    }));
  }

  async #info(): Promise<AgentInfo> {
    const o = this.opts;
    return {
      id: o.id,
      addr: o.addr,
      region: o.region,
      scalingGroup: o.scalingGroup,
      architecture: Deno.build.arch,
      version: o.version,
      resourceSlots: o.host.capacity(),
      availableSlots: this.#free(),
      images: await o.host.images(),
      computePlugins: o.host.plugins(),
      draining: this.#draining,
      kernels: this.#reports(),
      storageHosts: o.storageHosts?.() ?? [],
    };
  }
}

/** A pause or resume this agent cannot do: an answer, not a failure of the agent. */
class KernelPauseRefused extends Error {
  override name = "KernelPauseRefused";
  readonly problemType = "service-unavailable";
}
