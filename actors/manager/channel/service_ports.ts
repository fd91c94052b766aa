/**
 * A session's service ports: the ones its image declares (label
 * `ai.backend.service-ports`, images/service_ports.ts) and the user's
 * `preopen_ports` (numbers, named by their number as Backend.AI does), in
 * the shape Backend.AI's create reply and `GET /session/{ref}` list them;
 * and how each is reached through a channel.
 *
 * @module
 */

import { recipeFor } from "../../../images/catalog.ts";
import {
  parseServicePorts,
  type ServicePort,
} from "../../../images/service_ports.ts";
import type { AppListing, ServicePortInfo } from "../port/channels.ts";

const declared = new Map<string, ServicePort[]>();

/** The service ports an image declares (none for an unknown image or a bad label). */
export function imageServicePorts(image: string): ServicePort[] {
  let ports = declared.get(image);
  if (!ports) {
    try {
      ports = parseServicePorts(recipeFor(image)?.servicePorts ?? "");
    } catch {
      ports = []; // recipes are checked at build; a bad one offers nothing
    }
    declared.set(image, ports);
  }
  return ports;
}

/**
 * The image's ports, then each preopen port that no image port uses.
 *
 * @example
 * ```ts
 * import { servicePortsOf } from "./service_ports.ts";
 * servicePortsOf("python-jupyter", [9000]);
 * // [{ name: "jupyter", protocol: "http", container_ports: [8080], host_ports: [null] },
 * //  { name: "9000", protocol: "preopen", container_ports: [9000], host_ports: [null] }]
 * ```
 */
export function servicePortsOf(
  image: string,
  preopenPorts: readonly unknown[] = [],
): ServicePortInfo[] {
  const out: ServicePortInfo[] = imageServicePorts(image).map((p) => ({
    name: p.name,
    protocol: p.protocol,
    container_ports: [...p.ports],
    host_ports: p.ports.map(() => null),
  }));
  const used = new Set(out.flatMap((p) => p.container_ports));
  for (const raw of preopenPorts) {
    const port = Number(raw);
    if (!Number.isInteger(port) || port < 1 || port > 65535) continue;
    if (used.has(port)) continue;
    used.add(port);
    out.push({
      name: String(port),
      protocol: "preopen",
      container_ports: [port],
      host_ports: [null],
    });
  }
  return out;
}

/** How a named service port is reached: an image app (started on use) or a plain TCP port. */
export type PortRoute =
  | { kind: "app"; app: string; protocol: string }
  | { kind: "tcp"; port: number; protocol: string };

/**
 * The channel to open for service port `name` of a session of `image`
 * whose ports are `ports` (and one of its ports other than the first,
 * `port`): the image's own ports are apps (started on use), the user's
 * preopen ports plain TCP. Undefined when the session has no such port.
 */
export function routeToPort(
  image: string,
  ports: readonly ServicePortInfo[],
  name: string,
  port?: number,
): PortRoute | "no-such-port" | undefined {
  const own = imageServicePorts(image).find((p) => p.name === name);
  if (own) {
    if (port === undefined || port === own.ports[0]) {
      return { kind: "app", app: own.name, protocol: own.protocol };
    }
    return own.ports.includes(port)
      ? { kind: "tcp", port, protocol: own.protocol }
      : "no-such-port";
  }
  const user = ports.find((p) => p.name === name);
  if (!user) return undefined;
  if (port !== undefined && !user.container_ports.includes(port)) {
    return "no-such-port";
  }
  return {
    kind: "tcp",
    port: port ?? user.container_ports[0],
    protocol: user.protocol,
  };
}

/**
 * `GET /stream/session/{ref}/apps`: Backend.AI's `{name, protocol, ports}`;
 * http apps carry a `url_template` with the proxy's path, so
 * `backend.ai app` prints a URL that works through its local port.
 */
export function appListing(
  ports: readonly ServicePortInfo[],
  baseUrl: (app: string) => string,
): AppListing[] {
  return ports.map((p) => ({
    name: p.name,
    protocol: p.protocol,
    ports: [...p.container_ports],
    ...(p.protocol === "http"
      ? { url_template: `http://{host}:{port}${baseUrl(p.name)}` }
      : {}),
  }));
}
