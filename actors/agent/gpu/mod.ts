/** GPU discovery (nvidia-smi) and whole-device allocation. */
export * from "./discovery.ts";
export * from "./allocator.ts";
