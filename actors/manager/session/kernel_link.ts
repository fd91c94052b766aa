/**
 * A session's link to its kernel on an agent node: the ref it talks to, the
 * death watch on it, and what happens while the kernel's node is away.
 *
 * When the agent node goes down with the session RUNNING, the kernel may
 * still live (agents re-adopt their containers on restart), so the link
 * goes *away* instead of ending the session: for {@link
 * KERNEL_REJOIN_GRACE_MS} it polls the agent (`kernel.list`) beside the
 * agent's own push (`kernel.adopted`), holds back a run asked for meanwhile
 * (sent once the kernel is back), and answers other kernel requests 503.
 * When the grace passes it tells the session `kernel.away-expired`.
 *
 * @module
 */

import type { ActorRef, Address } from "../../runtime/types.ts";
import type { AgentMsg, KernelMsg } from "../../protocol/agent.ts";
import { DomainError } from "../errors.ts";
import type { Run } from "./run.ts";
import type { SessionMsg } from "./messages.ts";

/**
 * How long a session keeps its kernel after the kernel's agent node went
 * down (a crash, a restart, a manager restart) before it gives the kernel
 * up and goes to ERROR. Within this grace the session stays RUNNING.
 */
export const KERNEL_REJOIN_GRACE_MS = graceFromEnv(30_000);

/** While a kernel is away, how often the session asks its agent whether the kernel is back. */
export const KERNEL_AWAY_POLL_MS = 1_000;

/** `BAI_KERNEL_REJOIN_GRACE_MS` overrides the grace (tests shorten it). */
function graceFromEnv(fallback: number): number {
  try {
    const v = Number(Deno.env.get("BAI_KERNEL_REJOIN_GRACE_MS"));
    return Number.isFinite(v) && v > 0 ? v : fallback;
  } catch {
    return fallback; // no env permission
  }
}

export type ExecMsg = Extract<KernelMsg, { type: "exec" }>;

/** What the link needs of its session actor. */
export interface LinkHost {
  readonly self: ActorRef<SessionMsg>;
  watch(ref: ActorRef): void;
  unwatch(ref: ActorRef): void;
  agentRef(agentId: string): ActorRef<AgentMsg>;
  kernelRef(agentId: string, kernelId: string): ActorRef<KernelMsg>;
}

interface Away {
  since: number;
  reason: string;
  grace: ReturnType<typeof setTimeout>;
  poll: ReturnType<typeof setInterval>;
}

export class KernelLink {
  #kernel?: ActorRef<KernelMsg>;
  #where?: { agentId: string; kernelId: string };
  #away?: Away;
  /** A run asked for while the kernel was away: sent once it is back. */
  #deferred?: { run: Run; msg: ExecMsg };
  /**
   * Re-attached from the store with a live kernel (manager restart, or the
   * actor restarted by its supervisor): runs started before are lost.
   */
  restored = false;
  /** Whether an exec went to the kernel since the link was restored. */
  #sentSinceRestore = false;

  constructor(readonly host: LinkHost) {}

  /** The kernel's ref, once attached. */
  get ref(): ActorRef<KernelMsg> | undefined {
    return this.#kernel;
  }

  /** Why the kernel is unreachable, while it is away. */
  get awayReason(): string | undefined {
    return this.#away?.reason;
  }

  /** Watches the kernel at `agentId`/`kernelId` and talks to it from now on. */
  attach(agentId: string, kernelId: string): void {
    this.#where = { agentId, kernelId };
    this.#kernel = this.host.kernelRef(agentId, kernelId);
    this.host.watch(this.#kernel);
  }

  /** Stops watching (a destroy or restart ends this kernel on purpose). */
  detach(): void {
    if (this.#kernel) this.host.unwatch(this.#kernel);
    this.#kernel = undefined;
    this.forget();
  }

  /** The kernel is gone for good: no away period, nothing held back. */
  forget(): void {
    this.clear();
    this.#deferred = undefined;
  }

  /** Is `ref` the kernel this link watches? */
  isKernel(ref: Address): boolean {
    return ref.node === this.#kernel?.node && ref.path === this.#kernel?.path;
  }

  /** Tells the kernel, unless it is away (then the message is dropped). */
  tell(msg: KernelMsg): void {
    if (!this.#away) this.#kernel?.tell(msg);
  }

  /** A request to the kernel; while it is away, 503 (an interrupt cancels a held-back run). */
  ask<T>(msg: KernelMsg, timeoutMs = 30_000): Promise<T> {
    const kernel = this.#kernel;
    if (!kernel) {
      return Promise.reject(
        new DomainError("generic-bad-request", "The session has no kernel."),
      );
    }
    if (this.#away) {
      if (msg.type === "interrupt") {
        this.cancelDeferred("interrupted before it could start");
        return Promise.resolve({ ok: true } as T);
      }
      return Promise.reject(
        new DomainError("service-unavailable", this.#away.reason),
      );
    }
    return kernel.ask<T>(msg, { timeoutMs });
  }

  /** Sends a run to the kernel, or holds it back while the kernel is away. */
  exec(run: Run, msg: ExecMsg): void {
    if (this.#away) {
      this.#deferred = { run, msg };
      return;
    }
    const kernel = this.#kernel;
    if (!kernel) return;
    this.#sentSinceRestore = true;
    kernel.ask(msg, { timeoutMs: 30_000 }).catch((err) => {
      if (run.final) return;
      run.push(["stderr", `kernel unreachable: ${errorText(err)}\n`]);
      run.setStatus("finished", 1);
    });
  }

  /** Ends a held-back run, saying why. */
  cancelDeferred(why: string): void {
    const d = this.#deferred;
    this.#deferred = undefined;
    if (!d || d.run.final) return;
    d.run.push(["stderr", `${why}\n`]);
    d.run.setStatus("finished", 1);
  }

  /**
   * The kernel's node went down: wait for it. A run whose events were
   * flowing from that node ends here with its outcome unknown; a held-back
   * run keeps waiting.
   */
  goAway(why: string, current: Run | undefined): void {
    if (this.#away || !this.#where) return;
    const { agentId, kernelId } = this.#where;
    if (current && !current.final && this.#deferred?.run !== current) {
      current.push([
        "stderr",
        `\nkernel unreachable: ${why}; this run's outcome is unknown ` +
        `(the session waits up to ${
          KERNEL_REJOIN_GRACE_MS / 1000
        } s for the agent to return)\n`,
      ]);
      current.setStatus("finished", 137);
    }
    const self = this.host.self;
    const agent = this.host.agentRef(agentId);
    const since = Date.now();
    let asking = false;
    const poll = setInterval(() => {
      // A pull beside the agent's push (`kernel.adopted`), which can be
      // missed (told before this actor was re-activated after a manager restart).
      if (asking) return;
      asking = true;
      agent.ask<{ kernelId: string; containerId: string }[]>(
        { type: "kernel.list" },
        { timeoutMs: 2_000 },
      ).then((list) => {
        const k = Array.isArray(list)
          ? list.find((x) => x?.kernelId === kernelId)
          : undefined;
        if (k) {
          self.tell({
            type: "kernel.adopted",
            kernelId,
            agentId,
            containerId: k.containerId,
          });
        }
      }, () => undefined).finally(() => asking = false);
    }, KERNEL_AWAY_POLL_MS);
    const grace = setTimeout(
      () => self.tell({ type: "kernel.away-expired", kernelId, since }),
      KERNEL_REJOIN_GRACE_MS,
    );
    this.#away = {
      since,
      reason: `kernel unreachable: ${why}; waiting up to ${
        KERNEL_REJOIN_GRACE_MS / 1000
      } s for it to return`,
      grace,
      poll,
    };
  }

  /**
   * The kernel's agent holds the kernel again: re-watch it and send what
   * was held back. Returns false when the link was not waiting for it.
   */
  back(agentId: string, kernelId: string): boolean {
    if (!this.#away) return false;
    this.clear();
    this.attach(agentId, kernelId);
    if (this.restored && !this.#sentSinceRestore) {
      // The interrupt told at re-activation found no agent: stop lost runs now.
      this.#kernel!.tell({ type: "interrupt" });
    }
    const d = this.#deferred;
    this.#deferred = undefined;
    if (d && !d.run.final) this.exec(d.run, d.msg);
    return true;
  }

  /**
   * The grace of the away period that began at `since` passed: the reason
   * to give the kernel up, or undefined if that period is already over.
   */
  expired(since: number): string | undefined {
    const away = this.#away;
    if (!away || away.since !== since || !this.#where) return undefined;
    const why = `agent ${this.#where.agentId} did not bring the kernel back ` +
      `within ${KERNEL_REJOIN_GRACE_MS / 1000} s (${away.reason})`;
    this.clear();
    this.cancelDeferred(`kernel lost: ${why}`);
    return why;
  }

  /** Ends the away period and its timers (a held-back run stays). */
  clear(): void {
    const a = this.#away;
    this.#away = undefined;
    if (!a) return;
    clearTimeout(a.grace);
    clearInterval(a.poll);
  }
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
