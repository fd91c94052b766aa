/**
 * KernelActor (`/user/node/agent/KERNEL_ID` on an agent node): one per kernel
 * container. It holds the connection to the container's runner and relays
 * the session actor's requests to it; run events flow back to the session
 * actor (its `owner`, usually on the manager node) as they happen.
 *
 * "Let it crash": if the runner dies, the actor reports `kernel.gone` to the
 * owner and stops; the agent (its supervisor) does not restart kernels,
 * whose state cannot be recreated.
 *
 * @module
 */

import { replyLater } from "../runtime/reply_later.ts";
import { Actor, type ActorRef } from "../runtime/types.ts";
import { fromBase64, toBase64 } from "../protocol/base64.ts";
import type { KernelConnection, KernelRun } from "./kernel/connection.ts";
import { FILE_CHUNK_BYTES, KernelMsg } from "../protocol/agent.ts";
import type { KernelGone, RunEvent } from "../protocol/manager.ts";
import type { KernelEnd } from "./kernel_host.ts";
import { ChannelRelay } from "./channel_relay.ts";
import { runTrace } from "./telemetry.ts";

type OwnerMsg = RunEvent | KernelGone;

export class KernelActor
  extends Actor<KernelMsg | { type: "runner-died"; reason: string }> {
  #runs = new Map<string, KernelRun>();
  #channels!: ChannelRelay;
  #forgetClosed?: () => void;

  constructor(
    readonly kernelId: string,
    readonly conn: KernelConnection,
    readonly owner: ActorRef<OwnerMsg>,
    readonly stats: () => Promise<Record<string, number>>,
    /** Why the container ended (OOM kill ...) and its final usage. */
    readonly ended?: (fallback: string) => Promise<KernelEnd>,
  ) {
    super();
  }

  override preStart(): void {
    this.#channels = new ChannelRelay(
      this.kernelId,
      this.conn,
      (address) => this.ctx.system.refFor(address),
    );
    const self = this.ctx.self;
    this.#forgetClosed = this.conn.onClosed((err) =>
      self.tell({ type: "runner-died", reason: err.message })
    );
  }

  override postStop(): void {
    // A pool container outlives this session: nothing of it may stay.
    this.#forgetClosed?.();
    // Destroyed (or restarted) by the agent: its terminals and app streams end with it.
    this.#channels?.endAll(`kernel ${this.kernelId} ended`);
    this.conn.close();
  }

  async receive(
    raw:
      | KernelMsg
      | { type: "runner-died"; reason: string }
      | { type: "retire"; reason: string },
  ): Promise<unknown> {
    if (raw.type === "retire") {
      // The agent ends this kernel on its own (drain deadline): the session
      // hears why, with the final usage, before the container goes.
      const stats = await this.stats().catch(() => ({}));
      return await this.#end(raw.reason, stats);
    }
    if (raw.type === "runner-died") {
      const end = this.ended
        ? await this.ended(raw.reason).catch(() => null)
        : null;
      const stats = end?.stats ?? await this.stats().catch(() => ({}));
      const reason = end?.reason ?? raw.reason;
      return await this.#end(reason, stats);
    }
    return await this.#handle(KernelMsg.parse(raw));
  }

  async #end(reason: string, stats: Record<string, number>): Promise<void> {
    this.#channels.endAll(`kernel ended: ${reason}`);
    // Runs still open end here, with the cause, before the session hears of it.
    for (const [runId, run] of this.#runs) {
      this.#runs.delete(runId);
      run.onEvent = undefined;
      this.owner.tell({
        type: "run.event",
        kernelId: this.kernelId,
        runId,
        ev: { ev: "out", stream: "stderr", data: `\n${reason}\n` },
      });
      this.owner.tell({
        type: "run.event",
        kernelId: this.kernelId,
        runId,
        ev: { ev: "done", status: "finished", exitCode: 137 },
      });
    }
    this.owner.tell({
      type: "kernel.gone",
      kernelId: this.kernelId,
      reason,
      stats,
    });
    await this.ctx.stop();
  }

  async #handle(msg: KernelMsg): Promise<unknown> {
    switch (msg.type) {
      case "exec": {
        // The run's span (telemetry.ts); its traceparent goes into the run's env.
        const trace = runTrace(this.kernelId, msg, this.ctx.traceparent);
        const run = this.conn.exec(msg.code, {
          mode: msg.mode,
          opts: { ...msg.opts, traceparent: trace.traceparent },
        });
        const runId = msg.runId;
        this.#runs.set(runId, run);
        const owner = this.owner;
        const kernelId = this.kernelId;
        run.onEvent = (ev) => {
          owner.tell({
            type: "run.event",
            kernelId,
            runId,
            ev: ev as RunEvent["ev"],
          });
          if (ev.ev === "done") {
            this.#runs.delete(runId);
            const d = ev as { status?: string; exitCode?: number };
            trace.done(d.status ?? "finished", d.exitCode);
          }
        };
        run.done.catch((err: unknown) => {
          trace.done("failed", 137, err);
          // A dead runner: `runner-died` ends the run, saying why.
          if (this.conn.isDead) return;
          owner.tell({
            type: "run.event",
            kernelId,
            runId,
            ev: {
              ev: "done",
              status: "finished",
              exitCode: 137,
              error: String(err),
            },
          });
          this.#runs.delete(runId);
        });
        return { accepted: true };
      }
      case "input":
        await this.#runs.get(msg.runId)?.input(msg.text);
        return { ok: true };
      case "interrupt": {
        const runs = msg.runId
          ? [this.#runs.get(msg.runId)]
          : [...this.#runs.values()];
        for (const r of runs) await r?.interrupt();
        return { ok: true };
      }
      case "complete":
        return { items: await this.conn.complete(msg.code, msg.opts) };
      case "put": {
        const mode = typeof msg.mode === "string"
          ? parseInt(msg.mode, 8)
          : msg.mode;
        const data = fromBase64(msg.data);
        if (msg.offset === undefined) await this.conn.put(msg.path, data, mode);
        else await this.conn.putRange(msg.path, msg.offset, data, mode);
        return { ok: true };
      }
      case "get": {
        if (msg.offset === undefined && msg.length === undefined) {
          return { data: toBase64(await this.conn.get(msg.path)) };
        }
        const r = await this.conn.getRange(
          msg.path,
          msg.offset ?? 0,
          msg.length ?? FILE_CHUNK_BYTES,
        );
        return {
          data: toBase64(r.data),
          offset: r.offset,
          size: r.size,
          eof: r.eof,
        };
      }
      case "channel.open":
        // An app may take up to a minute to start: the mailbox goes on
        // (runs, other channels' bytes) while this open completes.
        return replyLater(this.#channels.open(msg));
      case "channel.write":
        await this.#channels.write(msg.channelId, msg.data);
        return { ok: true };
      case "channel.credit":
        await this.#channels.credit(msg.channelId, msg.bytes);
        return { ok: true };
      case "channel.eof":
        await this.#channels.eof(msg.channelId);
        return { ok: true };
      case "channel.resize":
        await this.#channels.resize(msg.channelId, msg.rows, msg.cols);
        return { ok: true };
      case "channel.close":
        await this.#channels.close(msg.channelId);
        return { ok: true };
      case "channel.list":
        return this.#channels.list();
      case "apps":
        return { items: await this.conn.apps() };
      case "list":
        return { items: await this.conn.list(msg.path) };
      case "stats":
        return await this.stats();
    }
  }
}
