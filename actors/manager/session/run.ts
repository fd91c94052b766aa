/**
 * One execution ("run") of a session, as the API sees it: console output
 * gathered between polls, the status, and the waiters of a long-poll.
 *
 * The kernel reports events as they happen (`out`, `media`, `stage`,
 * `waiting-input`, `done`); clients collect them by polling (`take`), a
 * stream with short polls. Consecutive stdout (or stderr) chunks are merged, as
 * Backend.AI does.
 *
 * @module
 */

import type { ConsoleItem, ExecuteResult } from "../port/mod.ts";

/** Statuses after which a poll returns at once (the client must act or is done). */
const STOPPING = new Set([
  "finished",
  "exec-timeout",
  "waiting-input",
  "error",
]);
/** Statuses after which the run is over. */
const FINAL = new Set(["finished", "exec-timeout", "error"]);
/** How long an eager poll (a stream's) gathers output after its first piece. */
const EAGER_COALESCE_MS = 5;
/** Batch stages: each is reported once, in order, with its own output. */
const STAGES = new Set(["clean-finished", "build-finished"]);

/** A stage report waiting for the client's next poll. */
interface StageReport {
  status: string;
  exitCode: number | null;
  options: Record<string, unknown> | null;
  console: ConsoleItem[];
}

/**
 * Most output kept for one poll, text and media alike; the rest is replaced
 * by a notice (a runaway print or plot cannot exhaust manager memory).
 */
export const MAX_PENDING_CHARS = 4 * 1024 * 1024;

/** Characters an item holds: its text, or a media item's encoded data. */
function itemSize([kind, data]: ConsoleItem): number {
  if (typeof data === "string") return data.length;
  if (kind === "media" && Array.isArray(data)) {
    return data.reduce(
      (n: number, part) => n + (typeof part === "string" ? part.length : 0),
      0,
    );
  }
  return JSON.stringify(data ?? null).length;
}

/** A run's progress between two polls. */
export class Run {
  status = "running";
  exitCode: number | null = null;
  options: Record<string, unknown> | null = null;
  #console: ConsoleItem[] = [];
  #chars = 0;
  #cut = false;
  #changed: (() => void)[] = [];
  /** Waits that also end on output (eager polls: streams). */
  #eager: (() => void)[] = [];
  /**
   * Stages reported but not yet taken. A stage and the next status can
   * arrive before the client polls again (a fast exec after a build); each
   * stage keeps its own place in line so none is overwritten.
   */
  #stages: StageReport[] = [];

  /** When the run started (`performance.now()`), for its round-trip time. */
  readonly startedAt = performance.now();

  constructor(readonly runId: string, readonly mode: string) {}

  get final(): boolean {
    return FINAL.has(this.status);
  }

  /** Output or media arrived; past MAX_PENDING_CHARS between polls the rest is cut. */
  push(item: ConsoleItem): void {
    const size = itemSize(item);
    if (this.#chars + size > MAX_PENDING_CHARS) {
      if (!this.#cut) {
        this.#cut = true;
        this.#append([
          "stderr",
          "\n[output cut: more than 4 MiB pending between polls]\n",
        ]);
      }
      return;
    }
    this.#chars += size;
    this.#append(item);
  }

  /** A status change reported by the kernel (`stage`, `waiting-input`, `done`). */
  setStatus(
    status: string,
    exitCode: number | null = null,
    options: Record<string, unknown> | null = null,
  ): void {
    if (STAGES.has(status) && !this.final) {
      // The output so far belongs to this stage; the run goes on.
      this.#stages.push({ status, exitCode, options, console: this.#console });
      this.#console = [];
      this.#chars = 0;
      this.#cut = false;
    } else {
      this.status = status;
      this.exitCode = exitCode;
      this.options = options;
    }
    this.#wake();
  }

  /** Resumes a run paused at a stage or input prompt. */
  resume(): void {
    if (!this.final) this.status = "running";
  }

  /** Drains the output gathered so far into an API result. */
  take(): ExecuteResult {
    const stage = this.#stages.shift();
    if (stage) {
      return {
        runId: this.runId,
        status: stage.status,
        exitCode: stage.exitCode,
        console: stage.console,
        files: [],
        options: stage.options,
      };
    }
    const stopping = STOPPING.has(this.status);
    const result: ExecuteResult = {
      runId: this.runId,
      status: stopping ? this.status : "continued",
      exitCode: stopping ? this.exitCode : null,
      console: this.#console,
      files: [],
      options: this.options,
    };
    this.#console = [];
    this.#chars = 0;
    this.#cut = false;
    return result;
  }

  /**
   * Resolves when the run reaches a status that ends a poll, or after `ms`;
   * `eager`: also as soon as there is output to take.
   */
  wait(ms: number, eager = false): Promise<void> {
    if (this.#stopping() || (eager && this.#console.length > 0)) {
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        for (const list of [this.#changed, this.#eager]) {
          const i = list.indexOf(done);
          if (i >= 0) list.splice(i, 1);
        }
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#changed.push(done);
      if (eager) this.#eager.push(done);
    });
  }

  /** A poll would return now: a stage report waits, or the status ends polls. */
  #stopping(): boolean {
    return this.#stages.length > 0 || STOPPING.has(this.status);
  }

  #append(item: ConsoleItem): void {
    if (this.#eager.length) {
      // Output arrived: an eager poll answers shortly, so what comes right
      // behind (more output, the run's end) goes in the same answer: a
      // quick run is still one `finished` frame with all its output.
      const waiters = this.#eager;
      this.#eager = [];
      setTimeout(() => waiters.forEach((w) => w()), EAGER_COALESCE_MS);
    }
    const last = this.#console.at(-1);
    if (
      last && (item[0] === "stdout" || item[0] === "stderr") &&
      last[0] === item[0]
    ) {
      last[1] = (last[1] as string) + (item[1] as string);
    } else {
      this.#console.push(item);
    }
  }

  /** Ends the waits of polls once a status ends them. */
  #wake(): void {
    if (this.#stopping()) {
      const waiters = this.#changed;
      this.#changed = [];
      for (const w of waiters) w();
    }
  }
}
