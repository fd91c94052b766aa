/**
 * Per-path message schemas: a domain registers the zod schema of what its
 * actors accept (`registerSchema("/user/sessions", SessionMsg)`), and every
 * message arriving from another node for a path under that prefix is
 * validated before delivery. The longest registered prefix wins; lookups are
 * cached because the same few paths receive most of the traffic.
 *
 * @module
 */

import { z } from "zod";
import type { ActorRef } from "../runtime/types.ts";

/** Anything with a zod-like `safeParse` (zod v4 schemas, or a hand-written adapter). */
export interface MessageSchema {
  safeParse(
    value: unknown,
  ): { success: true; data: unknown } | {
    success: false;
    error: { message: string };
  };
}

const CACHE_LIMIT = 10_000;

/** Prefix → schema, with a bounded lookup cache. */
export class SchemaRegistry {
  #byPrefix = new Map<string, MessageSchema>();
  #cache = new Map<string, MessageSchema | null>();

  /**
   * Validate messages to `prefix` and everything below it (`/user/a` covers
   * `/user/a` and `/user/a/b`, not `/user/ab`). Registering a prefix again
   * replaces its schema. Returns a function that removes it.
   */
  register(prefix: string, schema: MessageSchema): () => void {
    const p = prefix.length > 1 && prefix.endsWith("/")
      ? prefix.slice(0, -1)
      : prefix;
    this.#byPrefix.set(p, schema);
    this.#cache.clear();
    return () => {
      if (this.#byPrefix.get(p) === schema) this.#byPrefix.delete(p);
      this.#cache.clear();
    };
  }

  /** The schema governing `path`, if any. */
  lookup(path: string): MessageSchema | undefined {
    if (this.#byPrefix.size === 0) return undefined;
    const hit = this.#cache.get(path);
    if (hit !== undefined) return hit ?? undefined;
    let best: MessageSchema | null = null;
    let bestLen = -1;
    for (const [prefix, schema] of this.#byPrefix) {
      if (prefix.length <= bestLen) continue;
      if (
        path === prefix || prefix === "/" ||
        (path.startsWith(prefix) && path[prefix.length] === "/")
      ) {
        best = schema;
        bestLen = prefix.length;
      }
    }
    if (this.#cache.size >= CACHE_LIMIT) this.#cache.clear();
    this.#cache.set(path, best);
    return best ?? undefined;
  }
}

/**
 * Schema for a field holding an actor ref in a message schema. Refs arrive
 * as `{ $ref: { node, path } }` and are revived into live refs before
 * validation, so this checks for a live ref.
 */
export const actorRefSchema: z.ZodType<ActorRef> = z.custom<ActorRef>(
  (v) =>
    typeof v === "object" && v !== null &&
    typeof (v as ActorRef).tell === "function" &&
    typeof (v as ActorRef).node === "string" &&
    typeof (v as ActorRef).path === "string",
  { message: "expected an actor ref" },
);
