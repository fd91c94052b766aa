/**
 * The manager's calls to storage nodes: find the node of a host through
 * the registry, ask its storage actor over the cluster, check the reply
 * against its schema, and turn a refusal into a {@link DomainError}.
 *
 * @module
 */

import type { z } from "zod";
import type { ActorRef } from "../../runtime/types.ts";
import {
  type StorageHostInfo,
  type StorageMsg,
  type StorageRegistryMsg,
  storageReply,
} from "../../protocol/storage.ts";
import { DomainError } from "../errors.ts";
import type { HostRoute, StorageRegistryQuery } from "./registry.ts";

/** Ask timeouts: folder creation and usage can wait on a filesystem sync. */
const ASK_MS = 30_000;

export class StorageClient {
  constructor(
    readonly registry: ActorRef<StorageRegistryMsg | StorageRegistryQuery>,
  ) {}

  /** The node serving `host`, or null when none is connected. */
  async route(host: string): Promise<HostRoute | null> {
    return await this.registry.ask<HostRoute | null>(
      { type: "route", host },
      { timeoutMs: 5000 },
    );
  }

  /** Every connected host. */
  async hosts(): Promise<StorageHostInfo[]> {
    return await this.registry.ask<StorageHostInfo[]>(
      { type: "storage.hosts" },
      { timeoutMs: 5000 },
    );
  }

  /** The route of `host`, or 503 service-unavailable. */
  async need(host: string): Promise<HostRoute> {
    const r = await this.route(host);
    if (!r) {
      throw new DomainError(
        "service-unavailable",
        `storage host ${host} is not connected`,
        { host },
      );
    }
    return r;
  }

  /** Asks the node of `msg.host`; answers the reply in `shape` or throws its refusal. */
  async ask<S extends z.ZodType>(
    msg: StorageMsg,
    shape: S,
  ): Promise<z.output<S>> {
    const route = await this.need(msg.host);
    let raw: unknown;
    try {
      raw = await route.ref.ask(msg, { timeoutMs: ASK_MS });
    } catch (e) {
      throw new DomainError(
        "service-unavailable",
        `storage node ${route.node} did not answer: ${
          e instanceof Error ? e.message : String(e)
        }`,
        { host: msg.host },
      );
    }
    const parsed = storageReply(shape).safeParse(raw);
    if (!parsed.success) {
      throw new DomainError(
        "service-unavailable",
        `storage node ${route.node} answered an unexpected reply`,
      );
    }
    const data = parsed.data as z.output<S> | {
      error: { type: string; msg: string };
    };
    if (data && typeof data === "object" && "error" in data) {
      const err = (data as { error: { type: string; msg: string } }).error;
      throw new DomainError(
        err.type as ConstructorParameters<typeof DomainError>[0],
        err.msg,
      );
    }
    return data as z.output<S>;
  }
}
