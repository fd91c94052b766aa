/**
 * WebSocket streaming execution (API.md "Execution: WebSocket streaming"):
 * `GET /stream/session/{ref}/execute` (v4: `/stream/kernel/...`). The upgrade
 * is authenticated like any GET (auth.ts accepts the octet-stream content
 * type clients sign it with). Protocol:
 *
 * 1. first client text frame `{"code","mode","options"}` starts the run;
 * 2. server frames `{"status","console","exitCode","options","files"}` as the
 *    manager yields them; the socket closes after `finished`;
 * 3. after a `waiting-input` frame the next client text frame is the input line;
 * 4. failures: `{"status":"error","msg"}` then close. However the socket
 *    ends before its run (the client leaves, sends a binary frame, the
 *    manager fails), the run is interrupted, so the session is free again.
 *
 * Terminals (`/pty`) are in pty.ts, service-port tunnels in tcpproxy.ts.
 *
 * @module
 */
import { z } from "zod";
import type { Context, Hono } from "hono";
import { requireAuth } from "./auth.ts";
import { callerOf } from "./caller.ts";
import type { GatewayEnv } from "./context.ts";
import type {
  Caller,
  GatewayDeps,
  StreamFrame,
  StreamRun,
} from "../actors/manager/port/mod.ts";
import { mergeConsole } from "./execute.ts";
import { ownerAccessKeyOf, queryParams, withoutNulls } from "./params.ts";
import { ProblemError, toProblem } from "./problems.ts";
import { upgradeProblem } from "./upgrade.ts";

const firstFrameSchema = z.object({
  code: z.string().default(""),
  mode: z.enum(["query", "batch"]).default("query"),
  options: z.record(z.string(), z.unknown()).nullable().default({}),
});

/** Logger used for unexpected failures inside a socket (no HTTP reply to carry them). */
export type StreamLogger = (msg: string, err: unknown) => void;

function upgrade(
  c: Context<GatewayEnv>,
): { socket: WebSocket; response: Response } {
  if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
    throw new ProblemError("generic-bad-request", {
      msg: "WebSocket upgrade required.",
    });
  }
  const refused = upgradeProblem(c.req.raw.headers);
  if (refused) throw refused;
  return Deno.upgradeWebSocket(c.req.raw);
}

function errorFrame(err: unknown, log: StreamLogger): string {
  const problem = toProblem(err);
  if (!problem) log("stream execution failed", err);
  return JSON.stringify({
    status: "error",
    msg: problem ? (problem.msg ?? problem.title) : "Internal server error.",
  });
}

function frameJson(f: StreamFrame): string {
  return JSON.stringify({
    status: f.status,
    console: mergeConsole(f.console ?? []),
    exitCode: f.exitCode ?? null,
    options: f.options ?? null,
    files: f.files ?? [],
  });
}

/** Drives one execute socket: parse the first frame, relay frames and input. */
export function driveExecute(
  socket: WebSocket,
  deps: GatewayDeps,
  caller: Caller,
  ref: string,
  log: StreamLogger,
): void {
  let run: StreamRun | undefined;
  let started = false;
  /** The run reached its end (a `finished` frame, or the frames ran out). */
  let ended = false;
  let awaitingInput = false;

  // Any way a socket ends before its run does interrupts the run, so the
  // session is free for the next one (a client gone, a bad frame, a failure).
  const stopRun = () => {
    if (!run || ended) return;
    ended = true;
    run.interrupt().catch((e) => log("interrupt failed", e));
  };

  const fail = (err: unknown) => {
    stopRun();
    if (socket.readyState === WebSocket.OPEN) {
      socket.send(errorFrame(err, log));
      socket.close(1000);
    }
  };

  const pump = async (r: StreamRun) => {
    for await (const frame of r.frames) {
      if (socket.readyState !== WebSocket.OPEN) return stopRun();
      awaitingInput = frame.status === "waiting-input";
      socket.send(frameJson(frame));
      if (frame.status === "finished") break;
    }
    ended = true;
    if (socket.readyState === WebSocket.OPEN) socket.close(1000);
  };

  socket.onmessage = (ev) => {
    if (typeof ev.data !== "string") {
      fail(
        new ProblemError("invalid-api-params", {
          msg: "Text frames expected.",
        }),
      );
      return;
    }
    if (!started) {
      started = true;
      let first: z.output<typeof firstFrameSchema>;
      try {
        const r = firstFrameSchema.safeParse(withoutNulls(JSON.parse(ev.data)));
        if (!r.success) throw new Error("invalid");
        first = r.data;
      } catch {
        fail(
          new ProblemError("invalid-api-params", {
            msg: "Malformed first frame.",
          }),
        );
        return;
      }
      // Promise.resolve().then: a synchronous throw from the manager is a failed run too.
      Promise.resolve().then(() =>
        deps.sessions.streamExecute(caller, ref, {
          code: first.code,
          mode: first.mode,
          options: first.options ?? {},
        })
      ).then((r) => {
        run = r;
        // The socket closed (or failed) while the run was being started.
        if (socket.readyState !== WebSocket.OPEN) return stopRun();
        return pump(r);
      }).catch(fail);
      return;
    }
    if (run && awaitingInput) {
      awaitingInput = false;
      run.sendInput(ev.data).catch(fail);
    }
  };

  socket.onclose = stopRun;
  socket.onerror = () => {};
}

/** Mounts the stream routes for both generations. */
export function mountStream(
  app: Hono<GatewayEnv>,
  deps: GatewayDeps,
  log: StreamLogger,
): void {
  for (const kind of ["session", "kernel"]) {
    app.get(`/stream/${kind}/:ref/execute`, requireAuth(), (c) => {
      const caller = callerOf(c, ownerAccessKeyOf(queryParams(c)));
      const { socket, response } = upgrade(c);
      driveExecute(socket, deps, caller, c.req.param("ref"), log);
      return response;
    });
  }
}
