/**
 * Terminals: `GET /stream/session/{ref}/pty` (v4: `/stream/kernel/...`),
 * a WebSocket carrying a real pseudo-terminal in the session's kernel
 * (the image's shell as the kernel's user, in its work dir), with
 * Backend.AI's frames (API.md), all JSON text frames:
 *
 * - in: `{"type":"stdin","chars":BASE64}`, `{"type":"resize","rows","cols"}`,
 *   `{"type":"ping"}` (keeps the session from idling, no answer),
 *   `{"type":"restart"}` (restarts the session, then a new shell on the
 *   same socket);
 * - out: `{"type":"out","data":BASE64}` as the terminal prints;
 *   `{"type":"error","msg"}` for a frame that could not be used.
 *
 * Each socket has a shell of its own (several per session); closing the
 * socket hangs that shell up, the session lives on. The shell's exit, or
 * the session's end (destroy, kernel lost), closes the socket (1000, the
 * reason in words: `exit 0`, `kernel ended: ...`). Optional query
 * parameters `rows` and `cols` give the first size.
 *
 * The session is resolved and the shell started before the upgrade, so a
 * missing or stopped session is a plain HTTP problem (404, 400).
 *
 * @module
 */
import type { Hono } from "hono";
import { requireAuth } from "./auth.ts";
import { callerOf } from "./caller.ts";
import type { GatewayEnv } from "./context.ts";
import type {
  Caller,
  ChannelStream,
  GatewayDeps,
} from "../actors/manager/port/mod.ts";
import { fromBase64, toBase64 } from "../actors/protocol/base64.ts";
import { ownerAccessKeyOf, queryParams } from "./params.ts";
import { ProblemError } from "./problems.ts";
import { upgradeProblem } from "./upgrade.ts";

/** Unexpected failures inside a socket (no HTTP reply to carry them). */
export type SocketLogger = (msg: string, err: unknown) => void;

/** The largest client frame read (a paste of 256 KiB fits). */
const MAX_FRAME_CHARS = 512 << 10;
/** Output waits while the socket has this much unsent. */
export const DRAIN_BYTES = 256 << 10;

/** Throws the 4xx of a request that is no (acceptable) WebSocket upgrade. */
export function requireUpgrade(req: Request): void {
  if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    throw new ProblemError("generic-bad-request", {
      msg: "WebSocket upgrade required.",
    });
  }
  const refused = upgradeProblem(req.headers);
  if (refused) throw refused;
}

/** Resolves once `socket` has less than `limit` bytes unsent (or closed). */
export async function drained(
  socket: WebSocket,
  limit = DRAIN_BYTES,
): Promise<void> {
  while (
    socket.bufferedAmount > limit && socket.readyState === WebSocket.OPEN
  ) {
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Initial size from `rows`/`cols` query parameters, when both are sane. */
function sizeOf(q: Record<string, unknown>): { rows?: number; cols?: number } {
  const rows = Number(q.rows), cols = Number(q.cols);
  const ok = (n: number) => Number.isInteger(n) && n >= 1 && n <= 1000;
  return ok(rows) && ok(cols) ? { rows, cols } : {};
}

/** What a terminal socket may ask of its session beyond the shell. */
export interface PtyHooks {
  /** `{"type":"restart"}`: restart the session (then a new shell opens). */
  restart?(): Promise<void>;
  log: SocketLogger;
}

/**
 * Relays one terminal socket: `open` starts a shell (again after a
 * restart). The first channel is opened by the caller (before the
 * upgrade) and passed as `first`.
 */
export function drivePty(
  socket: WebSocket,
  first: ChannelStream,
  open: () => Promise<ChannelStream>,
  hooks: PtyHooks,
): void {
  let ch = first;
  let restarting = false;
  const send = (frame: Record<string, unknown>) => {
    if (socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(frame));
    }
  };
  const closeSocket = (reason: string) => {
    if (
      socket.readyState === WebSocket.OPEN ||
      socket.readyState === WebSocket.CONNECTING
    ) {
      socket.close(1000, reason.slice(0, 120));
    }
  };

  const pump = async (c: ChannelStream) => {
    for (;;) {
      const chunk = await c.read();
      if (chunk === null) break;
      if (socket.readyState !== WebSocket.OPEN) break;
      send({ type: "out", data: toBase64(chunk) });
      await drained(socket);
    }
    c.close(); // no-op once closed; ends a terminal whose output ended alone
    const end = await c.closed;
    if (restarting || c !== ch) return; // a new shell follows on this socket
    const exit = (end as { exitCode?: number }).exitCode;
    closeSocket(exit !== undefined ? `exit ${exit}` : end.reason);
  };

  const restart = async () => {
    if (restarting || !hooks.restart) return;
    restarting = true;
    try {
      ch.close();
      await hooks.restart();
      if (socket.readyState !== WebSocket.OPEN) return;
      ch = await open();
      restarting = false;
      void pump(ch).catch((e) => hooks.log("terminal relay failed", e));
    } catch (err) {
      restarting = false;
      send({ type: "error", msg: errorMsg(err) });
      closeSocket("restart failed");
    }
  };

  socket.onmessage = (ev) => {
    if (typeof ev.data !== "string") return; // Backend.AI's terminals speak text frames only
    if (ev.data.length > MAX_FRAME_CHARS) {
      return send({ type: "error", msg: "Frame too large." });
    }
    let f: Record<string, unknown>;
    try {
      f = JSON.parse(ev.data);
      if (!f || typeof f !== "object") throw new Error();
    } catch {
      return send({ type: "error", msg: "Frames are JSON objects." });
    }
    switch (f.type) {
      case "stdin": {
        let bytes: Uint8Array;
        try {
          bytes = fromBase64(String(f.chars ?? ""));
        } catch {
          return send({ type: "error", msg: "stdin chars must be base64." });
        }
        // Queued in order; a closed shell drops it (its socket is closing).
        void ch.write(bytes).catch(() => {});
        return;
      }
      case "resize": {
        const rows = Number(f.rows), cols = Number(f.cols);
        if (!(rows >= 1 && cols >= 1)) {
          return send({ type: "error", msg: "resize needs rows and cols." });
        }
        return ch.resize(rows, cols);
      }
      case "ping":
        return; // the open channel already holds the session awake
      case "restart":
        void restart();
        return;
      default:
        return send({ type: "error", msg: `Unknown frame type.` });
    }
  };
  socket.onclose = () => ch.close();
  socket.onerror = () => {};
  const start = () =>
    void pump(ch).catch((e) => {
      hooks.log("terminal relay failed", e);
      closeSocket("relay failed");
    });
  if (socket.readyState === WebSocket.OPEN) start();
  else socket.onopen = start;
}

function errorMsg(err: unknown): string {
  const e = err as { problemMsg?: unknown; message?: unknown };
  return typeof e?.problemMsg === "string"
    ? e.problemMsg
    : err instanceof Error
    ? err.message
    : "failed";
}

/**
 * Answers a terminal upgrade for `caller`: the shell starts first (its
 * failure is this request's problem), then the socket relays it. The
 * dashboard's cookie-authenticated terminal uses this too.
 */
export async function ptyResponse(
  req: Request,
  deps: GatewayDeps,
  caller: Caller,
  ref: string,
  log: SocketLogger,
  size: { rows?: number; cols?: number } = {},
): Promise<Response> {
  const channels = deps.channels;
  if (!channels) {
    throw new ProblemError("generic-bad-request", {
      msg: "This manager has no terminals.",
    });
  }
  requireUpgrade(req);
  const open = () => channels.open(caller, ref, { kind: "pty", ...size });
  const first = await open();
  let upgraded: { socket: WebSocket; response: Response };
  try {
    upgraded = Deno.upgradeWebSocket(req);
  } catch (err) {
    first.close();
    throw err;
  }
  drivePty(upgraded.socket, first, open, {
    restart: () => deps.sessions.restart(caller, ref),
    log,
  });
  return upgraded.response;
}

/** Mounts the terminal routes for both API generations. */
export function mountPty(
  app: Hono<GatewayEnv>,
  deps: GatewayDeps,
  log: SocketLogger,
): void {
  for (const kind of ["session", "kernel"]) {
    app.get(
      `/stream/${kind}/:ref/pty`,
      requireAuth(),
      async (c) => {
        const q = queryParams(c);
        const caller = callerOf(c, ownerAccessKeyOf(q));
        return await ptyResponse(
          c.req.raw,
          deps,
          caller,
          c.req.param("ref"),
          log,
          sizeOf(q),
        );
      },
    );
  }
}
