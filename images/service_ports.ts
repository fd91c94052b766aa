/**
 * Service ports, as Backend.AI images declare them in the
 * `ai.backend.service-ports` label: comma-separated `name:protocol:port`
 * items, where the port may be a bracketed list (`name:tcp:[8000,8001]`)
 * and the protocol is `http`, `tcp`, `pty` or `preopen`. The runner has a
 * Python twin of this parser (images/runner/bai_apps.py); both refuse the
 * same inputs.
 *
 * @module
 */

/** One declared service port. */
export interface ServicePort {
  name: string;
  protocol: ServicePortProtocol;
  /** Container ports (the first is the one a channel connects to). */
  ports: number[];
}

export const SERVICE_PORT_PROTOCOLS = [
  "http",
  "tcp",
  "pty",
  "preopen",
] as const;
export type ServicePortProtocol = typeof SERVICE_PORT_PROTOCOLS[number];

/** A label that is not a valid service-port list. */
export class ServicePortError extends Error {
  override name = "ServicePortError";
}

const ITEM = /^([\w-]+):(\w+):(\[\d+(?:,\d+)*\]|\d+)$/;

/**
 * Parses a service-ports label; an empty label declares none.
 *
 * @throws ServicePortError on a malformed item, an unknown protocol, a port
 * outside 1..65535 or a port used twice.
 * @example
 * ```ts
 * import { parseServicePorts } from "./service_ports.ts";
 * parseServicePorts("jupyter:http:8080,shell:pty:[3000]");
 * // [{ name: "jupyter", protocol: "http", ports: [8080] },
 * //  { name: "shell", protocol: "pty", ports: [3000] }]
 * ```
 */
export function parseServicePorts(label: string): ServicePort[] {
  const out: ServicePort[] = [];
  const seen = new Set<number>();
  for (const item of splitItems(label)) {
    const m = ITEM.exec(item);
    const protocol = m?.[2] as ServicePortProtocol | undefined;
    if (!m || !protocol || !SERVICE_PORT_PROTOCOLS.includes(protocol)) {
      throw new ServicePortError(`bad service port: "${item}"`);
    }
    const ports = m[3].replace(/[[\]]/g, "").split(",").map(Number);
    for (const p of ports) {
      if (!(p > 0 && p < 65536) || seen.has(p)) {
        throw new ServicePortError(`bad or repeated port ${p} in "${item}"`);
      }
      seen.add(p);
    }
    out.push({ name: m[1], protocol, ports });
  }
  return out;
}

/** Splits on commas outside brackets (a port list has commas of its own). */
function splitItems(label: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let cur = "";
  for (const c of label) {
    if (c === "[") depth++;
    if (c === "]") depth--;
    if (c === "," && depth === 0) {
      if (cur.trim()) items.push(cur.trim());
      cur = "";
    } else cur += c;
  }
  if (cur.trim()) items.push(cur.trim());
  return items;
}
