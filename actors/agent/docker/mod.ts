/** Docker Engine API client for the agent: typed calls, hijacked attach, stream demuxing. */
export * from "./errors.ts";
export * from "./demux.ts";
export * from "./attach.ts";
export * from "./client.ts";
