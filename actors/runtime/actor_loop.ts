/**
 * The actor loop: the lanes that feed one actor and the loop that drains
 * them one message at a time. `cell.ts` builds lifecycle and supervision
 * on top of it; this part knows nothing of parents, children or the system.
 *
 * Two lanes go ahead of user messages: control (`ctrl`: start, stop, a
 * child's failure, restart phases, resume; handled by the subclass) and
 * signals (Terminated, for `onTerminated`). Control is handled even while
 * the actor is suspended after a failure; `onTerminated` and `receive` only
 * while it runs. An async callback blocks the loop until its promise
 * settles (so an async `receive` finishes before the next message), and a
 * synchronous one costs no promise at all: the result is awaited only when
 * it is thenable. A `replyLater` result answers later without blocking.
 *
 * While `receive` runs, the message's trace context (carried on its reply
 * slot) is current: `ctx.traceparent`, `messageTraceparent()`, and what
 * local sends pass on.
 *
 * @module
 */

import { type Runnable, schedule } from "./dispatcher.ts";
import { Mailbox } from "./mailbox.ts";
import { ReplyLater, settleReply } from "./reply_later.ts";
import { setActiveTrace, validTraceparent } from "./trace_context.ts";
import { scope } from "./trace_scope.ts";
import {
  type Actor,
  type Address,
  MailboxOverflowError,
  type Reply,
  type StopReason,
  type Terminated,
} from "./types.ts";

/** Accepting and handling messages. */
export const RUNNING = 1;
/** Stop requested: no new messages; stopping children, then postStop. */
export const STOPPING = 2;
/** Gone: removed from its parent and the registry; watchers notified. */
export const STOPPED = 3;

/**
 * A refusal is an answer, not a failure: an error carrying a string
 * `problemType` (the API problem convention, e.g. a domain's "No such
 * session.") rejects the ask and the actor goes on with its state.
 * Anything else thrown from `receive` fails the actor and goes to its
 * supervisor.
 */
export function isRefusal(error: unknown): boolean {
  return error instanceof Error &&
    typeof (error as { problemType?: unknown }).problemType === "string";
}

/** Turns any thrown value into the text of a failure reason. */
export function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** The stop reason of a failure. */
export function failure(error: unknown): StopReason {
  return { kind: "failure", error: describe(error) };
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null &&
    (typeof v === "object" || typeof v === "function") &&
    typeof (v as { then?: unknown }).then === "function";
}

/** Mailbox lanes and the loop of one actor; `C` is the control message type. */
export abstract class ActorLoop<M, C> implements Runnable {
  queued = false;
  /** An async callback or lifecycle step is in flight; the loop waits for it. */
  busy = false;
  /** Failed and waiting for its supervisor; user messages wait. */
  suspended = false;
  state: number = RUNNING;
  /** Messages received so far (wraps); entities use it to detect idleness. */
  received = 0;
  instance: Actor<M> | undefined = undefined;
  mailbox: Mailbox | undefined = undefined;
  ctrl: C[] | undefined = undefined;
  signals: Terminated[] | undefined = undefined;
  /** The reply slot of the message being handled (the ask it answers, or a trace tag). */
  currentReply: Reply | undefined = undefined;
  /** Where this actor is, for errors. */
  abstract readonly ref: Address;

  constructor(
    /** Mailbox bound; 0 for none. */
    readonly bound: number,
  ) {}

  /** Handles one control message (lifecycle, supervision). */
  protected abstract handleCtrl(c: C): void;
  /** The actor failed: reject `reply`, suspend, tell the supervisor. */
  protected abstract fail(error: unknown, reply: Reply | undefined): void;
  /** A runtime step failed where nothing can throw. */
  protected abstract logError(message: string, error: unknown): void;

  /** The W3C `traceparent` of the message being handled, if it carried a valid one. */
  get traceparent(): string | undefined {
    return validTraceparent(this.currentReply?.traceparent);
  }

  /** Enqueues a user message; false when no longer accepting. Throws {@link MailboxOverflowError}. */
  post(msg: unknown, reply: Reply | undefined): boolean {
    if (this.state !== RUNNING) return false;
    let mb = this.mailbox;
    if (mb === undefined) mb = this.mailbox = new Mailbox();
    else if (this.bound > 0 && mb.size >= this.bound) {
      throw new MailboxOverflowError(this.ref, this.bound);
    }
    mb.push(msg, reply);
    this.received = (this.received + 1) | 0;
    if (!this.busy && !this.queued) schedule(this);
    return true;
  }

  pushCtrl(c: C): void {
    (this.ctrl ??= []).push(c);
    if (!this.busy) schedule(this);
  }

  /** Queues a Terminated for `onTerminated`. */
  signal(t: Terminated): void {
    if (this.state === STOPPED) return;
    (this.signals ??= []).push(t);
    if (!this.busy) schedule(this);
  }

  run(max: number): number {
    let n = 0;
    while (!this.busy) {
      const ctrl = this.ctrl;
      if (ctrl !== undefined && ctrl.length > 0) {
        this.handleCtrl(ctrl.shift()!);
        continue;
      }
      if (this.state !== RUNNING || this.suspended) break;
      const sig = this.signals;
      if (sig !== undefined && sig.length > 0) {
        const t = sig.shift()!;
        const inst = this.instance!;
        if (inst.onTerminated !== undefined) {
          this.hook(() => inst.onTerminated!(t));
        }
        n++;
        continue;
      }
      const mb = this.mailbox;
      if (mb === undefined || mb.size === 0) break;
      if (n >= max) {
        schedule(this);
        break;
      }
      const msg = mb.shift();
      const reply = mb.reply;
      mb.reply = undefined;
      n++;
      if (reply !== undefined) {
        this.#receiveWithReply(msg as M, reply);
        continue;
      }
      // A plain tell (the hot path): no reply to settle, no trace to set.
      let r: unknown;
      try {
        r = this.instance!.receive(msg as M);
      } catch (e) {
        if (!isRefusal(e)) this.fail(e, undefined);
        continue;
      }
      if (isThenable(r)) {
        this.busy = true;
        r.then((v) => this.#asyncDone(v), (e) => this.#asyncFailed(e));
      } else if (r instanceof ReplyLater) settleReply(undefined, r);
    }
    return n;
  }

  /**
   * An ask, or a tell carrying a trace: the reply slot is current while
   * `receive` runs (`ctx.traceparent`), and so is its trace for the sends
   * the handler makes synchronously.
   */
  #receiveWithReply(msg: M, reply: Reply): void {
    this.currentReply = reply;
    setActiveTrace(reply.traceparent);
    let r: unknown;
    try {
      r = scope === undefined
        ? this.instance!.receive(msg)
        : scope(reply.traceparent, () => this.instance!.receive(msg));
    } catch (e) {
      setActiveTrace(undefined);
      this.currentReply = undefined;
      if (isRefusal(e)) reply.reject(e);
      else this.fail(e, reply);
      return;
    }
    setActiveTrace(undefined);
    if (isThenable(r)) {
      this.busy = true;
      r.then((v) => this.#asyncDone(v), (e) => this.#asyncFailed(e));
    } else {
      this.currentReply = undefined;
      settleReply(reply, r);
    }
  }

  #asyncDone(v: unknown): void {
    const reply = this.currentReply;
    this.currentReply = undefined;
    this.busy = false;
    settleReply(reply, v);
    schedule(this);
  }

  #asyncFailed(e: unknown): void {
    const reply = this.currentReply;
    this.currentReply = undefined;
    this.busy = false;
    if (isRefusal(e)) reply?.reject(e);
    else this.fail(e, reply);
    schedule(this);
  }

  /** Runs a user hook whose failure is a failure of this actor; the loop waits for an async one. */
  protected hook(fn: () => unknown): Promise<void> | undefined {
    let r: unknown;
    try {
      r = fn();
    } catch (e) {
      this.fail(e, undefined);
      return undefined;
    }
    if (!isThenable(r)) return undefined;
    this.busy = true;
    return new Promise<void>((resolve) => {
      r.then(() => {
        this.busy = false;
        schedule(this);
        resolve();
      }, (e) => {
        this.busy = false;
        this.fail(e, undefined);
        schedule(this);
        resolve();
      });
    });
  }

  /** Blocks the loop on a runtime step (which must not reject). */
  protected track(p: Promise<void>): void {
    this.busy = true;
    p.catch((e) => this.logError("runtime step", e))
      .then(() => {
        this.busy = false;
        schedule(this);
      });
  }
}
