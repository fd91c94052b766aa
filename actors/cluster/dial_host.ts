/**
 * The host a process on this machine dials to reach a listener bound to
 * `hostname`: a wildcard bind (`0.0.0.0`, `::`, empty) is reached on
 * loopback, a named address on itself (a listener bound to one interface
 * does not answer on 127.0.0.1). IPv6 literals come bracketed, ready for a
 * URL.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dialHost } from "./dial_host.ts";
 * assert.equal(dialHost("0.0.0.0"), "127.0.0.1");
 * assert.equal(dialHost("::"), "[::1]");
 * assert.equal(dialHost("10.0.0.5"), "10.0.0.5");
 * assert.equal(dialHost("fd00::5"), "[fd00::5]");
 * ```
 *
 * @module
 */
export function dialHost(hostname: string): string {
  if (hostname === "0.0.0.0" || hostname === "") return "127.0.0.1";
  if (hostname === "::") return "[::1]";
  return hostname.includes(":") ? `[${hostname}]` : hostname;
}
