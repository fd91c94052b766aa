/** Warm pool of pre-started kernel containers. */
export * from "./warm_pool.ts";
