/**
 * One run of a kernel, as `KernelConnection.exec` returns it: its
 * events in order, replayable, and its end.
 *
 * @module
 */
import type { DoneEvent, RunEvent } from "./protocol.ts";

/** What a run asks of its connection. */
export interface RunControl {
  input(runId: string, text: string): Promise<void>;
  interrupt(runId: string): Promise<void>;
}

/**
 * One run started by `KernelConnection.exec`: iterate it for its
 * events (out, media, html, waiting-input, stage, done; `done` comes last),
 * or await `done`. Iterating after the run ended replays buffered events.
 */
export class KernelRun implements AsyncIterable<RunEvent> {
  readonly id: string;
  /** Resolves with the run's `done`; rejects if the kernel died first. */
  readonly done: Promise<DoneEvent>;
  #conn: RunControl;
  #events: RunEvent[] = [];
  #wake: (() => void) | null = null;
  #error: Error | null = null;
  #ended = false;
  #resolve!: (d: DoneEvent) => void;
  #reject!: (e: Error) => void;
  /** Called synchronously for each event, in order (optional). */
  onEvent?: (ev: RunEvent) => void;

  constructor(conn: RunControl, id: string) {
    this.#conn = conn;
    this.id = id;
    this.done = new Promise((res, rej) => {
      this.#resolve = res;
      this.#reject = rej;
    });
    this.done.catch(() => {}); // observed through iteration or by the caller
  }

  /** @internal */
  _push(ev: RunEvent): void {
    try {
      this.onEvent?.(ev);
    } catch (e) {
      // A consumer's failure (e.g. a message it could not send on) must not
      // reach the connection's read loop: that would end the kernel.
      console.error(`kernel run ${this.id}: event consumer failed: ${e}`);
    }
    this.#events.push(ev);
    if (ev.ev === "done") {
      this.#ended = true;
      this.#resolve(ev);
    }
    this.#wake?.();
  }

  /** @internal */
  _fail(e: Error): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = e;
    this.#reject(e);
    this.#wake?.();
  }

  /** Answers a `waiting-input`. */
  input(text: string): Promise<void> {
    return this.#conn.input(this.id, text);
  }

  /** Asks the runner to interrupt this run; `done` then says `interrupted`. */
  interrupt(): Promise<void> {
    return this.#conn.interrupt(this.id);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<RunEvent> {
    let i = 0;
    for (;;) {
      while (i < this.#events.length) {
        const ev = this.#events[i++];
        yield ev;
        if (ev.ev === "done") return;
      }
      if (this.#error) throw this.#error;
      await new Promise<void>((r) => (this.#wake = r));
      this.#wake = null;
    }
  }
}
