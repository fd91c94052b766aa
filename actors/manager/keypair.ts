/**
 * KeypairActor (entity `keypair/ACCESS_KEY`): one per access key, activated
 * on first use and passivated when idle. It answers the gateway's
 * authentication look-up, applies the rolling 15-minute rate limit (exact:
 * one actor sees every request of its key, one at a time), and admits new
 * sessions against the keypair's resource policy.
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
  | { type: "admit"; sessionId: string; slots: Record<string, number> }
  | {
    type: "session.status";
    sessionId: string;
    status: string;
    slots: Record<string, number>;
  }
  | { type: "reload" };

export class KeypairActor extends Actor<KeypairMsg> {
  #auth?: KeypairAuth & { resourcePolicy: string };
  #window: RateLimitState = emptyRateLimitState();
  #live = new Map<string, Record<string, number>>();

  constructor(readonly accessKey: string, readonly store: KeypairStorePort) {
    super();
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
    this.#auth = auth;
    this.#live = new Map(live.map((s) => [s.id, s.slots]));
    this.#loaded = true;
  }

  async receive(msg: KeypairMsg): Promise<unknown> {
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
        return await this.#admit(msg.sessionId, msg.slots);
      case "session.status":
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
  ): Promise<void> {
    const auth = this.#auth;
    if (!auth) throw new DomainError("object-not-found", "No such keypair.");
    const policy = await this.store.policy(auth.resourcePolicy);
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
        cost_today: await this.store.costToday(this.accessKey, Date.now()),
      }, { slots, containers: 1 });
      if (!verdict.ok) {
        throw new DomainError(
          "quota-exceeded",
          verdict.error.message,
          verdict.error.toProblemData(),
        );
      }
    }
    // Reserved now, so concurrent creates cannot both pass the check.
    this.#live.set(sessionId, slots);
  }
}
