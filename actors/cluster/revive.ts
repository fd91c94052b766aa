/**
 * Turn `{ $ref: { node, path } }` objects inside a received message back
 * into live refs. Refs serialise themselves that way (`ActorRef.toJSON`), so
 * a ref sent inside a message arrives as something the receiver can `tell`.
 *
 * @module
 */

import type { ActorRef, Address } from "../runtime/types.ts";
import { wireRefSchema } from "./protocol.ts";

/**
 * Replace wire refs in `value` (in place for arrays and objects, which are
 * freshly parsed and ours) and return the result. Depth is bounded so a
 * hostile, deeply nested message cannot blow the stack.
 */
export function reviveRefs(
  value: unknown,
  refFor: (a: Address) => ActorRef,
  depth = 0,
): unknown {
  if (typeof value !== "object" || value === null || depth > 64) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      value[i] = reviveRefs(value[i], refFor, depth + 1);
    }
    return value;
  }
  const obj = value as Record<string, unknown>;
  if ("$ref" in obj) {
    const r = wireRefSchema.safeParse(obj);
    if (r.success && Object.keys(obj).length === 1) return refFor(r.data.$ref);
  }
  for (const k of Object.keys(obj)) {
    obj[k] = reviveRefs(obj[k], refFor, depth + 1);
  }
  return obj;
}
