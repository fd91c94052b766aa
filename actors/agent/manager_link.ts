/**
 * How an agent tells its operator about its way to the manager, in one
 * line each: the manager cannot be reached (and why: refused, a name that
 * does not resolve, ...; the agent keeps trying), or it refused the agent
 * (a wrong cluster secret: the agent stops). Until the first join the
 * cluster's own log lines (one per retry) are held back, since that one
 * line says it; after it they pass as before.
 *
 * Also the agent's own address as the manager reaches it (`addr` in the
 * registry): the local address of a connection to the manager.
 *
 * @module
 */

import { HandshakeRefusedError } from "../cluster/mod.ts";

type Log = (level: "info" | "warn", message: string) => void;

/** The agent side of the link to its manager (module doc). */
export class ManagerLink {
  #joined = false;
  #told = false;
  #slow: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly agentId: string,
    /** `ws://HOST:PORT/x/cluster`. */
    readonly url: string,
    readonly print: (line: string) => void = (l) => console.error(l),
  ) {}

  /** The cluster's log: held back until joined, then as the default. */
  readonly log: Log = (level, message) => {
    if (this.#joined) {
      this.print(`[cluster ${this.agentId}] ${level}: ${message}`);
    }
  };

  /**
   * Before the first dial: says at once when the manager's port takes no
   * connections (and why), and after `slowMs` when no join happened yet
   * for another reason (a port that is not the manager's).
   */
  async dialing(slowMs = 10_000): Promise<void> {
    this.#slow = setTimeout(() => {
      if (this.#joined || this.#told) return;
      this.#told = true;
      this.print(
        `agent ${this.agentId}: no answer to the cluster handshake from ${this.url} yet (is this the manager's port?); still trying`,
      );
    }, slowMs);
    Deno.unrefTimer(this.#slow);
    const why = await reachability(this.url);
    if (why === undefined || this.#joined) return;
    this.#told = true;
    this.print(
      `agent ${this.agentId}: cannot reach the manager at ${this.url}: ${why}; retrying until it answers`,
    );
  }

  /** The first join happened: the cluster's log flows again. */
  joined(): void {
    this.#joined = true;
    clearTimeout(this.#slow);
    if (this.#told) {
      this.print(`agent ${this.agentId}: reached the manager at ${this.url}`);
    }
  }

  /**
   * This machine's address towards the manager (the local end of a TCP
   * connection to it), else the host name.
   */
  async ownAddress(): Promise<string> {
    const { hostname, port } = hostPort(this.url);
    try {
      const conn = await Deno.connect({ hostname, port });
      const local = (conn.localAddr as Deno.NetAddr).hostname;
      conn.close();
      return local;
    } catch {
      return Deno.hostname();
    }
  }
}

function hostPort(url: string): { hostname: string; port: number } {
  const u = new URL(url);
  const port = Number(u.port) || (u.protocol === "wss:" ? 443 : 80);
  return { hostname: u.hostname.replace(/^\[|\]$/g, ""), port };
}

/** Why a TCP connection to the manager fails; undefined when it connects. */
export async function reachability(url: string): Promise<string | undefined> {
  let target: { hostname: string; port: number };
  try {
    target = hostPort(url);
  } catch {
    return `${url} is not a ws:// URL`;
  }
  try {
    const conn = await Deno.connect(target);
    conn.close();
    return undefined;
  } catch (e) {
    if (e instanceof Deno.errors.ConnectionRefused) {
      return `connection refused (is the manager running on port ${target.port}?)`;
    }
    if (e instanceof Deno.errors.TimedOut) return "the connection timed out";
    return e instanceof Error
      ? e.message.replace(/ \(os error \d+\)$/, "")
      : String(e);
  }
}

/**
 * The one line for a start-up failure the operator can fix (a refused
 * handshake); undefined for other failures.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HandshakeRefusedError } from "../cluster/mod.ts";
 * import { refusalLine } from "./manager_link.ts";
 * const line = refusalLine("gpu-1", "ws://m:8081/x/cluster", new HandshakeRefusedError("bad-secret", "MAC does not match"));
 * assert.ok(line?.includes("wrong cluster secret"));
 * ```
 */
export function refusalLine(
  agentId: string,
  url: string,
  err: unknown,
): string | undefined {
  if (!(err instanceof HandshakeRefusedError)) return undefined;
  const why: Record<string, string> = {
    "bad-secret":
      "wrong cluster secret (CLUSTER_SECRET must be the manager's: its var/cluster.secret)",
    "clock-skew": `this machine's clock is off (${err.detail})`,
    "protocol":
      `another protocol version (${err.detail}): run the same release`,
    "self":
      `the manager runs under this agent's id (${err.detail}): pick another --id`,
  };
  return `agent ${agentId}: the manager at ${url} refused it: ${
    why[err.code] ?? `${err.code}: ${err.detail}`
  }`;
}
