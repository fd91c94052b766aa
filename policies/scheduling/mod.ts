/**
 * Scheduling: the generic pass ({@link schedule}) and the policies that
 * order it, registered by name ({@link SCHEDULER_KINDS}). To add a policy,
 * write `NAME.ts` exporting a {@link defineSchedulingPolicy} value and
 * `NAME_test.ts`, then add it to the list in `registry.ts`.
 *
 * @module
 */

export * from "./types.ts";
export * from "./policy.ts";
export * from "./registry.ts";
export * from "./schedule.ts";
export { fifo } from "./fifo.ts";
export { lifo } from "./lifo.ts";
export { dominantShare, drf } from "./drf.ts";
