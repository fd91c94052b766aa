/**
 * The messages manager and agent nodes exchange, with their zod schemas.
 * Both sides import this module and neither owns it: a receiver validates
 * every message that crosses a node boundary against these schemas.
 *
 * - `agent.ts`: what an agent node's actors receive (from the manager).
 * - `manager.ts`: what the manager's actors receive (from agents).
 *
 * Not re-exported (import them directly): `storage.ts`, the messages of
 * storage nodes and the manager's storage registry, and `base64.ts`, the
 * encoding of bytes inside messages and tokens.
 *
 * @module
 */

export * from "./agent.ts";
export * from "./manager.ts";
