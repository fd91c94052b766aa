/**
 * KeypairActor (entity `keypair/ACCESS_KEY`): one per access key, activated
 * on first use and passivated when idle. It answers the gateway's
 * authentication look-up, applies the rolling 15-minute rate limit (exact:
 * one actor sees every request of its key, one at a time), and admits new
 * sessions against the keypair's resource policy. It also holds the
 * keypair's live daily cost limit (keypair_cost.ts): checked every
 * `cost.tick`, at admission and before a suspended session resumes.
 *
 * @module
 */

import { Actor } from "../runtime/types.ts";
import type { KeypairAuth } from "./port/mod.ts";
import {
  checkRateLimit,
  emptyRateLimitState,
  type RateLimitState,
} from "../../policies/rate_limit.ts";
import {
  admitSession,
  type KeypairResourcePolicy,
} from "../../policies/admission.ts";
import { DomainError } from "./errors.ts";
import { isEnded } from "./lifecycle.ts";
import { keypairSpan } from "./spans.ts";
import {
  type CostCheck,
  type CostStanding,
  KeypairCost,
  type KeypairCostDeps,
} from "./keypair_cost.ts";

/** Persistence the keypair actor reads. */
export interface KeypairStorePort {
  keypair(
    accessKey: string,
  ): Promise<(KeypairAuth & { resourcePolicy: string }) | undefined>;
  policy(name: string): Promise<KeypairResourcePolicy | undefined>;
  /** Live sessions of the keypair with their slots (re-counted at activation). */
  liveSessions(
    accessKey: string,
  ): Promise<{ id: string; slots: Record<string, number> }[]>;
  costToday(accessKey: string, now: number): Promise<number>;
}

export type KeypairMsg =
  | { type: "auth" }
  | { type: "hit"; limit: number; now: number }
  /**
   * Reserves a new session's slots; answers `{ hold }` when "maintain"
   * holds it back for the cost budget (then it waits in the pending queue).
   */
  | {
    type: "admit";
    sessionId: string;
    slots: Record<string, number>;
    /** Where it will run (its prices count for the budget). @default {"default"} */
    scalingGroup?: string;
  }
  /** The periodic cost check (sessions registry, every 5 s); answers CostStanding. */
  | { type: "cost.tick" }
  /** May a session start or resume now? Answers CostCheck. */
  | { type: "cost.check" }
  /** Settings and today's standing: answers CostStatus. */
  | { type: "cost.status" }
  | {
    type: "session.status";
    sessionId: string;
    status: string;
    slots: Record<string, number>;
  }
  | { type: "reload" };

/** Answer of `cost.status`. */
export interface CostStatus {
  settings: KeypairCost["settings"];
  policyLimit: number | null;
  today: CostStanding;
}

export class KeypairActor extends Actor<KeypairMsg> {
  #auth?: KeypairAuth & { resourcePolicy: string };
  #window: RateLimitState = emptyRateLimitState();
  #live = new Map<string, Record<string, number>>();

  readonly #cost?: KeypairCost;

  constructor(
    readonly accessKey: string,
    readonly store: KeypairStorePort,
    /** The live daily cost limit's surroundings; without them only the policy applies. */
    cost?: KeypairCostDeps,
  ) {
    super();
    if (cost) this.#cost = new KeypairCost(accessKey, cost);
  }

  /** Whether #load has succeeded once (it fails while the store is away). */
  #loaded = false;

  override async preStart(): Promise<void> {
    // Not fatal: with the database away, activation must not fail the
    // entity (its asks would wait for a timeout); the first message that
    // needs the keypair loads it, and refuses with 503 while it cannot.
    await this.#load().catch(() => {});
  }

  async #load(): Promise<void> {
    const auth = await this.store.keypair(this.accessKey);
    const live = await this.store.liveSessions(this.accessKey);
    if (auth && this.#cost) {
      const policy = await this.store.policy(auth.resourcePolicy);
      await this.#cost.load(policy?.daily_cost_limit);
    }
    this.#auth = auth;
    this.#live = new Map(live.map((s) => [s.id, s.slots]));
    this.#loaded = true;
  }

  receive(msg: KeypairMsg): Promise<unknown> {
    return keypairSpan(this.accessKey, msg, () => this.#receive(msg));
  }

  async #receive(msg: KeypairMsg): Promise<unknown> {
    switch (msg.type) {
      case "auth":
        if (!this.#loaded) await this.#load();
        return this.#auth;
      case "reload":
        return await this.#load();
      case "hit": {
        const r = checkRateLimit(this.#window, msg.now, msg.limit);
        this.#window = r.state;
        return { allowed: r.allowed, remaining: r.remaining };
      }
      case "admit":
        if (!this.#loaded) await this.#load();
        return await this.#admit(msg.sessionId, msg.slots, msg.scalingGroup);
      case "cost.tick":
        if (!this.#loaded) await this.#load();
        if (!this.#cost || !this.#auth) return;
        // The policy's limit may have changed (admins edit policies).
        this.#cost.policyLimit =
          (await this.store.policy(this.#auth.resourcePolicy))
            ?.daily_cost_limit ?? null;
        return await this.#cost.tick(this.#live.keys());
      case "cost.check":
        if (!this.#loaded) await this.#load();
        return this.#cost
          ? await this.#cost.check()
          : { ok: true } satisfies CostCheck;
      case "cost.status":
        if (!this.#loaded) await this.#load();
        return this.#cost && {
          settings: this.#cost.settings,
          policyLimit: this.#cost.policyLimit,
          today: await this.#cost.standing(),
        } satisfies CostStatus;
      case "session.status":
        this.#cost?.sessionStatus(
          msg.sessionId,
          msg.status,
          isEnded(msg.status),
        );
        if (isEnded(msg.status)) this.#live.delete(msg.sessionId);
        else if (this.#live.has(msg.sessionId)) {
          this.#live.set(msg.sessionId, msg.slots);
        }
        return;
    }
  }

  async #admit(
    sessionId: string,
    slots: Record<string, number>,
    scalingGroup = "default",
  ): Promise<{ hold?: string; scratchBytes?: number }> {
    const auth = this.#auth;
    if (!auth) throw new DomainError("object-not-found", "No such keypair.");
    const found = await this.store.policy(auth.resourcePolicy);
    if (this.#cost) this.#cost.policyLimit = found?.daily_cost_limit ?? null;
    const cost = await this.#cost?.admit(sessionId, slots, scalingGroup);
    const hold = cost && "hold" in cost ? cost.hold : undefined;
    // The enforced limit (policy's or the keypair's own, the smaller); none
    // while "maintain" holds the session back instead of refusing it.
    const policy = found && cost
      ? { ...found, daily_cost_limit: "hold" in cost ? null : cost.limit }
      : found;
    if (policy) {
      const occupied: Record<string, number> = {};
      for (const s of this.#live.values()) {
        for (const [k, v] of Object.entries(s)) {
          occupied[k] = (occupied[k] ?? 0) + v;
        }
      }
      const verdict = admitSession(policy, {
        concurrent_sessions: this.#live.size,
        occupied_slots: occupied,
        cost_today: cost && "costToday" in cost
          ? cost.costToday
          : await this.store.costToday(this.accessKey, Date.now()),
        cost_resets_at: cost && "resetsAt" in cost ? cost.resetsAt : undefined,
      }, { slots, containers: 1 });
      if (!verdict.ok) {
        this.#cost?.sessionStatus(sessionId, "CANCELLED", true);
        throw new DomainError(
          "quota-exceeded",
          verdict.error.message,
          verdict.error.toProblemData(),
        );
      }
    }
    // Reserved now, so concurrent creates cannot both pass the check.
    this.#live.set(sessionId, slots);
    // The policy's cap on the kernel's work dir travels with the session.
    const scratch = found?.max_scratch_size ?? 0;
    return {
      ...(hold ? { hold } : {}),
      ...(scratch > 0 ? { scratchBytes: scratch } : {}),
    };
  }
}
