/** Per-kernel usage metering from cgroup v1 (or Engine stats). */
export * from "./cgroup.ts";
export * from "./meter.ts";
