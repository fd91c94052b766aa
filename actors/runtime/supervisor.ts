/**
 * A supervisor as data (OTP's `supervisor` behaviour): a strategy and a
 * table of child specs, started in order, each with its restart type and
 * shutdown deadline. A reader of one table sees what restarts when what
 * fails; the {@link Supervisor} actor only reads it.
 *
 * Restart types, as in OTP: `permanent` children are restarted after any
 * failure, `transient` ones too (a failure is the only abnormal exit an
 * actor has here), `temporary` ones are never restarted: their failure
 * stops them. Restart intensity (`maxRestarts` in `withinMs`) escalates.
 *
 * @example
 * ```ts
 * import { Actor, ActorSystem, Supervisor } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * class Echo extends Actor<string> {
 *   receive(msg: string) {
 *     return msg;
 *   }
 * }
 * const system = new ActorSystem();
 * system.spawn(() =>
 *   new Supervisor({
 *     strategy: "one_for_one",
 *     maxRestarts: 3,
 *     withinMs: 5_000,
 *     children: [
 *       { id: "echo", start: () => new Echo(), restart: "permanent", shutdownMs: 1_000 },
 *     ],
 *   }), { name: "root" });
 * await new Promise((r) => setTimeout(r, 10)); // the root starts its children
 * const echo = system.refFor<string>({ node: system.nodeId, path: "/user/root/echo" });
 * assert.equal(await echo.ask("hi"), "hi");
 * await system.shutdown();
 * ```
 *
 * @module
 */

import { Actor, type SupervisorStrategy } from "./types.ts";

/** One row of a supervisor's table. */
export interface ChildSpec {
  /** The child's name (its path segment under the supervisor). */
  id: string;
  /** A fresh instance, on every (re)start. */
  // deno-lint-ignore no-explicit-any
  start: () => Actor<any>;
  /** What a failure of this child does. */
  restart: "permanent" | "transient" | "temporary";
  /** Milliseconds the child gets to stop before it is abandoned. */
  shutdownMs: number;
  /** Mailbox bound, if any. */
  mailboxBound?: number;
}

/** A supervisor's table. */
export interface SupervisorSpec {
  /** Which children restart with a failed one. */
  strategy: SupervisorStrategy["kind"];
  /** Restart intensity: more than this many restarts ... */
  maxRestarts: number;
  /** ... within this many milliseconds escalates to the supervisor's parent. */
  withinMs: number;
  /** Started in this order, stopped in reverse. */
  children: readonly ChildSpec[];
}

/** Starts and supervises the children of a {@link SupervisorSpec}. */
export class Supervisor extends Actor<never> {
  constructor(readonly spec: SupervisorSpec) {
    super();
  }

  override supervisorStrategy(): SupervisorStrategy {
    const byPath = new Map<string, ChildSpec>();
    return {
      kind: this.spec.strategy,
      maxRestarts: this.spec.maxRestarts,
      withinMs: this.spec.withinMs,
      decide: (_error, child) => {
        if (byPath.size === 0) {
          for (const c of this.spec.children) byPath.set(c.id, c);
        }
        const id = child.path.slice(child.path.lastIndexOf("/") + 1);
        return byPath.get(id)?.restart === "temporary" ? "stop" : "restart";
      },
    };
  }

  override preStart(): void {
    for (const c of this.spec.children) {
      this.ctx.spawn(c.start, {
        name: c.id,
        shutdownMs: c.shutdownMs,
        mailboxBound: c.mailboxBound,
      });
    }
  }

  receive(_msg: never): void {}
}
