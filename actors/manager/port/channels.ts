/**
 * Byte channels into a session's kernel, as the HTTP edge uses them:
 * terminals (`/stream/session/{ref}/pty`), TCP tunnels to service ports
 * (`/stream/session/{ref}/tcpproxy`) and the browser app proxy
 * (`/x/apps/{sessionId}/{app}/...`). The manager implements it in
 * actors/manager/channel/ (one actor per open channel, credit-based flow
 * control end to end); routes code against these types only.
 *
 * @module
 */

import type { Caller } from "./keypairs.ts";

/** What a channel connects to inside the kernel. */
export type ChannelKind = "pty" | "tcp" | "app";

/** Where the app proxy serves a session's apps (routes/app_proxy). */
export const APP_PROXY_PREFIX = "/x/apps";

/**
 * The URL prefix an http app of a session is served under: the same for
 * every way in (browser proxy, `backend.ai app`), because an app keeps the
 * base URL it was first started with.
 *
 * @example
 * ```ts
 * import { appBaseUrl } from "./channels.ts";
 * appBaseUrl("0b7d…", "jupyter"); // "/x/apps/0b7d…/jupyter/"
 * ```
 */
export function appBaseUrl(sessionId: string, app: string): string {
  return `${APP_PROXY_PREFIX}/${sessionId}/${app}/`;
}

/** A terminal's request. */
export interface PtyRequest {
  kind: "pty";
  /** @default 24 x 80 */
  rows?: number;
  cols?: number;
  /** Extra environment of the shell. */
  env?: Record<string, string>;
}

/** A service port by name (`jupyter`, or a preopen port's number). */
export interface AppRequest {
  kind: "app";
  app: string;
  /** One of the app's ports other than its first (Backend.AI's `port` parameter). */
  port?: number;
}

/** What {@link ChannelDeps.open} opens. */
export type ChannelRequest = PtyRequest | AppRequest;

/** How a channel ended. */
export interface ChannelEnd {
  /** `exit` (a terminal's shell ended), `eof`, `closed`, `kernel ended: ...`, ... */
  reason: string;
  /** A terminal shell's exit code. */
  exitCode?: number;
}

/**
 * An open channel. Output is pulled: {@link read} hands out one chunk at
 * a time, and the kernel is granted credit for a chunk only when the next
 * is asked for, so a consumer that reads a chunk, passes it on and waits
 * until it drained before reading again holds the kernel back to what it
 * can take. Input is queued and sent within the kernel's credit.
 */
export interface ChannelStream {
  readonly channelId: string;
  readonly kind: ChannelKind;
  readonly sessionId: string;
  /** tcp/app: the container port reached. */
  readonly port?: number;
  /** app: whether this open started it, and the base URL it serves under. */
  readonly started?: boolean;
  readonly baseUrl?: string;
  /** The next output chunk; null once the output ended (EOF or close). */
  read(): Promise<Uint8Array | null>;
  /**
   * Queues input; resolves once it was sent within the kernel's credit.
   * Rejects once the channel closed. More than the queue bound (16 MiB
   * not yet sent) closes the channel (`input overflow`).
   */
  write(bytes: Uint8Array): Promise<void>;
  /** No more input (TCP half-close), after what is queued. */
  eof(): void;
  /** A terminal's new size. */
  resize(rows: number, cols: number): void;
  /** Ends the channel (after the queued input, at most a few seconds). Idempotent. */
  close(): void;
  /** Whether no more output will come (EOF or closed). */
  readonly ended: boolean;
  /** Settles once, when the channel closed. */
  readonly closed: Promise<ChannelEnd>;
}

/** A service port of a session, in Backend.AI's shape (`servicePorts`). */
export interface ServicePortInfo {
  name: string;
  /** `http`, `tcp`, `pty` or `preopen`. */
  protocol: string;
  container_ports: number[];
  /** Always null: kernels publish no host ports, the manager tunnels. */
  host_ports: (number | null)[];
}

/** One item of `GET /stream/session/{ref}/apps` (what `backend.ai app` reads). */
export interface AppListing {
  name: string;
  protocol: string;
  ports: number[];
  /** How `backend.ai app` prints the local URL: `{protocol}`, `{host}`, `{port}` filled in. */
  url_template?: string;
}

/** An app proxy token, issued to a signed caller for one session's app. */
export interface AppToken {
  token: string;
  sessionId: string;
  app: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

/** What a valid app proxy token grants. */
export interface AppGrant {
  accessKey: string;
  sessionId: string;
  app: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
  /** `url`: the short-lived link token; `cookie`: the longer one the proxy sets. */
  use: "url" | "cookie";
}

/** Channel operations (GatewayDeps.channels). */
export interface ChannelDeps {
  /**
   * Opens a channel in the session's kernel; a SUSPENDED session resumes
   * first, and the session counts as busy (no idle pause) while it is
   * open. Fails with a problem before any byte: object-not-found (no such
   * session or app), generic-bad-request (not RUNNING, a pty app through
   * a tunnel), service-unavailable (nothing listens, the app did not
   * start: the runner's words in the message).
   */
  open(
    caller: Caller,
    ref: string,
    req: ChannelRequest,
  ): Promise<ChannelStream>;
  /** The session's service ports as `GET /stream/session/{ref}/apps` lists them. */
  apps(caller: Caller, ref: string): Promise<AppListing[]>;
  /** A link token for the browser app proxy, valid `ttlSeconds` (default 300, at most 3600). */
  issueAppToken(
    caller: Caller,
    ref: string,
    app: string,
    ttlSeconds?: number,
  ): Promise<AppToken>;
  /** The grant of a token, or undefined when it is forged, malformed or expired. */
  verifyAppToken(token: string, now?: number): AppGrant | undefined;
  /** The longer-lived cookie token the proxy trades a valid link token for. */
  cookieToken(grant: AppGrant): { token: string; maxAgeSeconds: number };
}
