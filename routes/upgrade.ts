/**
 * The handshake checks of RFC 6455 §4.2.1 for every WebSocket upgrade the
 * gateway accepts (`/stream/...` and the cluster endpoint): a request
 * without a well-formed `Sec-WebSocket-Key` is a 400, one with a
 * `Sec-WebSocket-Version` other than 13 is a 426 that names the version we
 * speak (`Sec-WebSocket-Version: 13`). Checked before anything upgrades, so
 * `Deno.upgradeWebSocket` never throws on a client's mistake.
 *
 * @module
 */
import { ProblemError } from "./problems.ts";

/** `base64` of 16 bytes: 22 characters and `==`. */
const KEY = /^[A-Za-z0-9+/]{22}==$/;

/**
 * Why an upgrade request cannot be accepted, as a problem; undefined when it
 * can. `headers` is read with `get` (a `Headers`, or node's lower-cased map
 * wrapped by the caller).
 *
 * @example
 * ```ts
 * import { upgradeProblem } from "./upgrade.ts";
 * const h = new Headers({ "sec-websocket-version": "99", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==" });
 * upgradeProblem(h)?.status; // 426
 * ```
 */
export function upgradeProblem(
  headers: { get(name: string): string | null },
): ProblemError | undefined {
  const key = headers.get("sec-websocket-key")?.trim();
  if (!key || !KEY.test(key)) {
    return new ProblemError("generic-bad-request", {
      msg: key
        ? "Sec-WebSocket-Key must be 16 bytes in base64."
        : "A WebSocket upgrade needs a Sec-WebSocket-Key header.",
    });
  }
  const version = headers.get("sec-websocket-version")?.trim();
  if (version !== "13") {
    return new ProblemError("websocket-version-unsupported", {
      msg: `Sec-WebSocket-Version ${
        JSON.stringify(version?.slice(0, 16) ?? null)
      } is not supported; use 13.`,
      headers: { "Sec-WebSocket-Version": "13" },
    });
  }
  return undefined;
}
