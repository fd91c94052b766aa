/**
 * Service ports over WebSockets, as the Python CLI's `backend.ai app
 * SESSION APP -b HOST:PORT` uses them (its `cli/app.py`):
 *
 * - `GET /stream/session/{ref}/apps` → `[{name, protocol, ports, url_template?}]`,
 *   the session's service ports (image-declared ones and `preopen_ports`);
 * - `GET /stream/session/{ref}/tcpproxy?app=NAME[&port=N]`: a WebSocket
 *   whose binary frames carry one TCP connection to the app inside the
 *   kernel (the CLI opens one per local connection). The app is started
 *   on first use; a failure to start, an unknown app or a stopped session
 *   is an HTTP problem before the upgrade. `arguments` and `envs` (the
 *   CLI's `--arg`/`-e`) are accepted and ignored: apps start as their
 *   image declares. The socket closes (1000) when the app closes its side;
 *   closing the socket closes the connection inside (after what was sent).
 *   Uploads are paced by the kernel: the client's connection is not read
 *   while a MiB waits for the kernel's credit (tunnel_socket.ts).
 *
 * v4 clients use `/stream/kernel/...`.
 *
 * @module
 */
import type { Hono } from "hono";
import { z } from "zod";
import { requireAuth } from "./auth.ts";
import { callerOf } from "./caller.ts";
import type { GatewayEnv } from "./context.ts";
import type { ChannelStream, GatewayDeps } from "../actors/manager/port/mod.ts";
import { intish, ownerAccessKeyOf, queryParams, validate } from "./params.ts";
import { drained, requireUpgrade, type SocketLogger } from "./pty.ts";
import { takeRawUpgrade } from "./native_upgrade.ts";
import { serveTunnelSocket } from "./tunnel_socket.ts";

const TcpProxyParams = z.object({
  app: z.string().regex(/^[\w-]{1,64}$/),
  port: intish.pipe(z.number().int().min(1).max(65535)).optional(),
  arguments: z.string().optional(),
  envs: z.string().optional(),
}).passthrough();

const enc = new TextEncoder();

/** Relays one tunnel socket to `ch` until either side ends. */
export function driveTunnel(
  socket: WebSocket,
  ch: ChannelStream,
  log: SocketLogger,
): void {
  socket.binaryType = "arraybuffer";
  const close = (code: number, reason: string) => {
    ch.close();
    if (
      socket.readyState === WebSocket.OPEN ||
      socket.readyState === WebSocket.CONNECTING
    ) socket.close(code, reason.slice(0, 120));
  };
  socket.onmessage = (ev) => {
    const bytes = typeof ev.data === "string"
      ? enc.encode(ev.data)
      : new Uint8Array(ev.data as ArrayBuffer);
    void ch.write(bytes).catch(() => {});
  };
  // The client left: what it sent still goes in, then the connection closes.
  socket.onclose = () => ch.close();
  socket.onerror = () => {};
  const pump = async () => {
    for (;;) {
      const chunk = await ch.read();
      if (chunk === null) break;
      if (socket.readyState !== WebSocket.OPEN) return ch.close();
      socket.send(chunk);
      await drained(socket, 1 << 20);
    }
    // The app closed its side (or the channel ended): a WebSocket has no
    // half-close, so the tunnel ends here, as Backend.AI's does.
    close(1000, "the app closed the connection");
  };
  const start = () =>
    void pump().catch((e) => {
      log("tunnel relay failed", e);
      close(1011, "relay failed");
    });
  if (socket.readyState === WebSocket.OPEN) start();
  else socket.onopen = start;
}

/** Mounts `/apps` and `/tcpproxy` for both API generations. */
export function mountTcpProxy(
  app: Hono<GatewayEnv>,
  deps: GatewayDeps,
  log: SocketLogger,
): void {
  const channels = deps.channels;
  if (!channels) return;
  for (const kind of ["session", "kernel"]) {
    app.get(`/stream/${kind}/:ref/apps`, requireAuth(), async (c) => {
      const caller = callerOf(c, ownerAccessKeyOf(queryParams(c)));
      return c.json(await channels.apps(caller, c.req.param("ref")));
    });
    app.get(`/stream/${kind}/:ref/tcpproxy`, requireAuth(), async (c) => {
      const q = queryParams(c);
      const caller = callerOf(c, ownerAccessKeyOf(q));
      const p = validate(TcpProxyParams, q);
      requireUpgrade(c.req.raw);
      const ch = await channels.open(caller, c.req.param("ref"), {
        kind: "app",
        app: p.app,
        ...(p.port !== undefined ? { port: p.port } : {}),
      });
      // On the client's own connection when the gateway hands it over, so
      // an upload waits for the kernel (tunnel_socket.ts); else Deno's.
      const raw = takeRawUpgrade(c.req.raw);
      if (raw) {
        serveTunnelSocket(
          raw.socket,
          raw.head,
          c.req.header("sec-websocket-key") ?? "",
          ch,
        );
        return c.body(null, 204); // not written: the socket is the tunnel's
      }
      let upgraded: { socket: WebSocket; response: Response };
      try {
        upgraded = Deno.upgradeWebSocket(c.req.raw);
      } catch (err) {
        ch.close();
        throw err;
      }
      driveTunnel(upgraded.socket, ch, log);
      return upgraded.response;
    });
  }
}
