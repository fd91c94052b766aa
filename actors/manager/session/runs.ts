/**
 * A session's runs: the one current {@link Run}, started by a query, a
 * batch or a stream, fed by the kernel's run events and drained by polls.
 * One run at a time per session (a kernel has one interpreter): a second
 * query while one is in progress is refused with 409 `session-busy` (its
 * data names the run in progress) until the first is continued to its end
 * or interrupted. Refusing, not queueing: a queued long-poll would hold the
 * client's request for an unknown time with no output to show.
 *
 * @module
 */

import type { ExecuteResult } from "../port/mod.ts";
import type { RunEvent } from "../../protocol/manager.ts";
import { DomainError } from "../errors.ts";
import type { ExecMsg, KernelLink } from "./kernel_link.ts";
import { MAX_PENDING_CHARS, Run } from "./run.ts";
import { runEnded } from "./spans.ts";

/** How long a long-poll waits before answering `continued`. */
export const POLL_MS = 2000;

export interface ExecuteInput {
  mode: "query" | "batch" | "continue" | "input";
  code: string;
  runId: string;
  options: Record<string, unknown>;
  waitMs?: number;
  /** Answer on the first output too (streams), not only when the run stops. */
  eager?: boolean;
}

/** A media item arriving in parts (`more: true` on all but the last). */
interface MediaParts {
  mime: string;
  parts: string[];
  size: number;
}

export class RunRelay {
  #run?: Run;
  #media?: MediaParts;

  /** `started` is called for every new run (counts queries, records activity). */
  constructor(
    readonly link: KernelLink,
    readonly started: () => void,
  ) {}

  /** The current run, if one is in progress. */
  get busy(): boolean {
    return Boolean(this.#run && !this.#run.final);
  }

  /** The current run, finished or not. */
  get current(): Run | undefined {
    return this.#run;
  }

  /**
   * A long-poll: starts a query or batch run, or continues or answers the
   * current one; resolves with what the run produced until it stopped or
   * `waitMs` passed.
   */
  execute(msg: ExecuteInput): Promise<ExecuteResult> {
    let run = this.#run;
    if (msg.mode === "query" || msg.mode === "batch") {
      if (run && !run.final && run.runId !== msg.runId) {
        throw new DomainError(
          "session-busy",
          "Another run is in progress; continue or interrupt it first.",
          { runId: run.runId },
        );
      }
      if (!run || run.runId !== msg.runId || run.final) {
        run = this.#start(msg.runId, msg.mode, msg.code, msg.options);
      }
    } else {
      if (!run && this.link.restored) {
        // A run of the previous manager incarnation: its output is lost.
        return Promise.resolve(lostRun(msg.runId));
      }
      if (!run || run.runId !== msg.runId) {
        throw new DomainError(
          "invalid-api-params",
          `No run with id ${msg.runId} in this session.`,
        );
      }
      if (msg.mode === "input") this.input(msg.runId, msg.code);
    }
    const current = run;
    return current.wait(msg.waitMs ?? POLL_MS, msg.eager).then(() =>
      current.take()
    );
  }

  /** Starts a streamed run; the stream then polls it with `continue`. */
  stream(
    mode: "query" | "batch",
    code: string,
    options: Record<string, unknown>,
  ): string {
    if (this.busy) {
      throw new DomainError(
        "session-busy",
        "Another run is in progress; continue or interrupt it first.",
        { runId: this.#run!.runId },
      );
    }
    return this.#start(crypto.randomUUID(), mode, code, options).runId;
  }

  /** A line for a run waiting for input. */
  input(runId: string, text: string): void {
    const run = this.#run;
    if (!run || run.runId !== runId || this.link.awayReason) return;
    this.link.tell({ type: "input", runId, text });
    run.resume();
  }

  /** A kernel's report about a run. */
  onEvent(msg: RunEvent): void {
    const run = this.#run;
    if (!run || run.runId !== msg.runId) return;
    const ev = msg.ev;
    switch (ev.ev) {
      case "out":
        run.push([ev.stream === "stderr" ? "stderr" : "stdout", ev.data ?? ""]);
        break;
      case "media":
        this.#onMedia(
          run,
          ev.mime ?? "application/octet-stream",
          ev.data ?? "",
          ev.more === true,
        );
        break;
      case "html":
        run.push(["html", ev.data ?? ""]);
        break;
      case "waiting-input":
        if (ev.prompt) run.push(["stdout", ev.prompt]);
        run.setStatus("waiting-input", null, {
          is_password: ev.password ?? false,
        });
        break;
      case "stage":
        run.setStatus(ev.stage ?? "build-finished", ev.exitCode ?? 0);
        break;
      case "done":
        run.setStatus(
          ev.status === "exec-timeout" ? "exec-timeout" : "finished",
          ev.exitCode ?? 0,
        );
        runEnded(run.mode, run.status, run.startedAt);
        break;
    }
  }

  /**
   * Joins a media item's parts into one console item. Parts past the
   * per-poll bound are dropped as they come (the item would be cut anyway),
   * so a runaway item costs no more memory than the bound.
   */
  #onMedia(run: Run, mime: string, data: string, more: boolean): void {
    const m = this.#media ?? { mime, parts: [], size: 0 };
    if (m.size + data.length <= MAX_PENDING_CHARS) {
      m.parts.push(data);
      m.size += data.length;
    } else m.size = Infinity;
    if (more) {
      this.#media = m;
      return;
    }
    this.#media = undefined;
    if (m.size === Infinity) {
      run.push(["stderr", `\n[output cut: a ${m.mime} item over 4 MiB]\n`]);
    } else run.push(["media", [m.mime, m.parts.join("")]]);
  }

  /** Ends the current run (its kernel ended or is being destroyed). */
  end(exitCode: number, note?: string): void {
    const run = this.#run;
    if (!run || run.final) return;
    if (note) run.push(["stderr", note]);
    run.setStatus("finished", exitCode);
  }

  #start(
    runId: string,
    mode: "query" | "batch",
    code: string,
    options: Record<string, unknown>,
  ): Run {
    const run = new Run(runId, mode);
    this.#run = run;
    this.#media = undefined;
    const opts: Record<string, unknown> = { ...options };
    if (mode === "batch") {
      opts.clean = options.clean ?? null;
      opts.build = options.build ?? null;
      opts.exec = options.exec ?? null;
    }
    const exec: ExecMsg = { type: "exec", runId, mode, code, opts };
    this.link.exec(run, exec);
    this.started();
    return run;
  }
}

/** The answer to a poll of a run the previous manager incarnation was running. */
function lostRun(runId: string): ExecuteResult {
  return {
    runId,
    status: "finished",
    exitCode: 137,
    console: [[
      "stderr",
      "run lost: the manager restarted while it was running; its outcome " +
      "is unknown and its output is gone (the kernel and its state remain)\n",
    ]],
    files: [],
    options: null,
  };
}
