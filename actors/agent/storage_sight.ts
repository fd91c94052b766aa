/**
 * Which storage hosts this agent can mount: it asks the manager's storage
 * registry for the hosts (name, path, marker id) every few seconds and
 * reports those whose marker it reads, with the same id, at the same path
 * on this machine (a local host beside it, or a shared filesystem mounted
 * where the storage node has it). The scheduler places a session with
 * folders only on an agent that sees their hosts.
 *
 * @module
 */

import type { ActorRef } from "../runtime/types.ts";
import {
  StorageHostInfo,
  type StorageRegistryMsg,
} from "../protocol/storage.ts";
import { readMarker } from "../storage/marker.ts";

export class StorageSight {
  #visible: string[] = [];
  #timer?: ReturnType<typeof setInterval>;

  constructor(
    readonly registry: ActorRef<StorageRegistryMsg>,
    readonly refreshMs = 5000,
  ) {}

  /** Host names seen at the last refresh. */
  visible(): string[] {
    return this.#visible;
  }

  /** One look: ask the registry, read the markers. */
  async refresh(): Promise<string[]> {
    let hosts: StorageHostInfo[];
    try {
      const raw = await this.registry.ask({ type: "storage.hosts" }, {
        timeoutMs: 5000,
      });
      const parsed = StorageHostInfo.array().safeParse(raw);
      if (!parsed.success) return this.#visible;
      hosts = parsed.data;
    } catch {
      return this.#visible; // manager away: keep what we saw
    }
    const seen: string[] = [];
    for (const h of hosts) {
      const m = await readMarker(h.path);
      if (m && m.id === h.markerId && m.name === h.name) seen.push(h.name);
    }
    this.#visible = seen;
    return seen;
  }

  start(): void {
    void this.refresh();
    this.#timer = setInterval(() => void this.refresh(), this.refreshMs);
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
