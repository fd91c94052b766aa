/** Kernel containers: hardened spec, runner protocol connection, launch/destroy. */
export * from "./errors.ts";
export * from "./protocol.ts";
export * from "./connection.ts";
export * from "./spec.ts";
export * from "./workdir.ts";
export * from "./launcher.ts";
export * from "./channel.ts";
