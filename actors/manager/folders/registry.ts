/**
 * StorageRegistryActor (`/user/storage` on the manager): which storage
 * node owns which storage host. Storage nodes join and heartbeat here
 * (with their hosts and sizes); a node declared down (death watch) or
 * leaving takes its hosts with it until it returns. Agents ask it for the
 * hosts to look for (`storage.hosts`), the folder service for the node of a
 * host (`route`).
 *
 * A host name is owned by one node: a second node claiming it while the
 * first is up is refused.
 *
 * @module
 */

import { Actor, type ActorRef, type Terminated } from "../../runtime/types.ts";
import {
  STORAGE_PATH,
  type StorageHostInfo,
  type StorageMsg,
  type StorageNodeInfo,
  type StorageRegistryMsg,
} from "../../protocol/storage.ts";

/** Where a host's folders are served. */
export interface HostRoute {
  node: string;
  url: string;
  host: StorageHostInfo;
  ref: ActorRef<StorageMsg>;
}

/** Queries of the manager's own callers. */
export type StorageRegistryQuery =
  | { type: "route"; host: string }
  | { type: "list" };

interface Entry {
  info: StorageNodeInfo;
  ref: ActorRef<StorageMsg>;
  lastSeen: number;
}

export class StorageRegistryActor
  extends Actor<StorageRegistryMsg | StorageRegistryQuery> {
  #nodes = new Map<string, Entry>();

  receive(msg: StorageRegistryMsg | StorageRegistryQuery): unknown {
    switch (msg.type) {
      case "storage.join":
      case "storage.heartbeat":
        return this.#seen(msg.info);
      case "storage.leave":
        this.#drop(msg.id);
        return;
      case "storage.hosts":
        return this.#hosts();
      case "route":
        return this.#route(msg.host);
      case "list":
        return [...this.#nodes.values()].map((e) => ({
          ...e.info,
          lastSeen: new Date(e.lastSeen).toISOString(),
        }));
    }
  }

  #seen(info: StorageNodeInfo): { ok: boolean; reason?: string } {
    for (const h of info.hosts) {
      for (const [id, e] of this.#nodes) {
        if (id !== info.id && e.info.hosts.some((x) => x.name === h.name)) {
          return {
            ok: false,
            reason: `storage host ${h.name} is served by ${id} already`,
          };
        }
      }
    }
    const known = this.#nodes.get(info.id);
    if (known) {
      known.info = info;
      known.lastSeen = Date.now();
      return { ok: true };
    }
    const ref = this.ctx.system.refFor<StorageMsg>({
      node: info.id,
      path: STORAGE_PATH,
    });
    this.ctx.watch(ref);
    this.#nodes.set(info.id, { info, ref, lastSeen: Date.now() });
    console.error(
      `manager: storage node ${info.id} joined (${
        info.hosts.map((h) => `${h.name}: ${h.kind}`).join(", ")
      })`,
    );
    return { ok: true };
  }

  #drop(id: string): void {
    const e = this.#nodes.get(id);
    if (!e) return;
    this.ctx.unwatch(e.ref);
    this.#nodes.delete(id);
  }

  override onTerminated(t: Terminated): void {
    for (const [id, e] of this.#nodes) {
      if (e.ref.node === t.ref.node && e.ref.path === t.ref.path) {
        this.#nodes.delete(id);
      }
    }
  }

  #hosts(): StorageHostInfo[] {
    return [...this.#nodes.values()].flatMap((e) => e.info.hosts);
  }

  #route(host: string): HostRoute | null {
    for (const e of this.#nodes.values()) {
      const h = e.info.hosts.find((x) => x.name === host);
      if (h) return { node: e.info.id, url: e.info.url, host: h, ref: e.ref };
    }
    return null;
  }
}
