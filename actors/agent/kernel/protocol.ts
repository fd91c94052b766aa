/**
 * Wire format of images/PROTOCOL.md: frames of a 4-byte big-endian length
 * followed by that many bytes of UTF-8 JSON; and the zod schemas of the
 * runner's events (they cross a process boundary, so they are validated).
 */
import { z } from "zod";

/** Largest frame either side may send (PROTOCOL.md). */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;

/** A frame was longer than {@linkcode MAX_FRAME_BYTES} or not valid JSON. */
export class ProtocolError extends Error {
  override name = "ProtocolError";
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encodes one message as a length-prefixed frame. */
export function encodeFrame(message: unknown): Uint8Array {
  const body = encoder.encode(JSON.stringify(message));
  if (body.length > MAX_FRAME_BYTES) {
    throw new ProtocolError(`frame of ${body.length} bytes exceeds limit`);
  }
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, 4);
  return out;
}

/**
 * Incremental frame decoder: `push(bytes)` returns the JSON values of every
 * frame completed by these bytes; partial frames wait for the next push.
 */
export class FrameDecoder {
  #buf = new Uint8Array(0);

  push(bytes: Uint8Array): unknown[] {
    let buf: Uint8Array;
    if (this.#buf.length === 0) buf = bytes;
    else {
      buf = new Uint8Array(this.#buf.length + bytes.length);
      buf.set(this.#buf);
      buf.set(bytes, this.#buf.length);
    }
    const out: unknown[] = [];
    let off = 0;
    while (buf.length - off >= 4) {
      const n = new DataView(buf.buffer, buf.byteOffset + off, 4).getUint32(0);
      if (n > MAX_FRAME_BYTES) {
        throw new ProtocolError(`frame length ${n} exceeds limit`);
      }
      if (buf.length - off - 4 < n) break;
      const text = decoder.decode(buf.subarray(off + 4, off + 4 + n));
      try {
        out.push(JSON.parse(text));
      } catch (cause) {
        throw new ProtocolError("frame is not JSON", { cause });
      }
      off += 4 + n;
    }
    this.#buf = off === buf.length ? new Uint8Array(0) : buf.slice(off);
    return out;
  }

  /** Bytes of an incomplete frame held back. */
  get pendingBytes(): number {
    return this.#buf.length;
  }
}

const id = z.string();

export const ReadyEvent = z.object({
  ev: z.literal("ready"),
  lang: z.string(),
  version: z.string(),
  modes: z.array(z.string()),
  /** The runner runs under its own init, which can reset the container (images/runner/bai_init.py). */
  resettable: z.boolean().optional(),
}).loose();
export const OutEvent = z.object({
  ev: z.literal("out"),
  id,
  stream: z.enum(["stdout", "stderr"]),
  data: z.string(),
});
export const MediaEvent = z.object({
  ev: z.literal("media"),
  id,
  mime: z.string(),
  data: z.string(),
  /** More parts of this item follow (their `data` continues this one's). */
  more: z.boolean().optional(),
});
export const HtmlEvent = z.object({
  ev: z.literal("html"),
  id,
  data: z.string(),
});
export const WaitingInputEvent = z.object({
  ev: z.literal("waiting-input"),
  id,
  prompt: z.string(),
  password: z.boolean().optional(),
});
export const StageEvent = z.object({
  ev: z.literal("stage"),
  id,
  stage: z.enum(["clean-finished", "build-finished"]),
  exitCode: z.number(),
});
export const DoneEvent = z.object({
  ev: z.literal("done"),
  id,
  status: z.enum(["finished", "exec-timeout", "interrupted"]),
  exitCode: z.number().nullable(),
});
export const CompletionsEvent = z.object({
  ev: z.literal("completions"),
  id,
  items: z.array(z.string()),
});
export const FileEvent = z.object({
  ev: z.literal("file"),
  id,
  data: z.string(),
  /** Where `data` starts, the file's whole size, and whether it reaches the end. */
  offset: z.number().optional(),
  size: z.number().optional(),
  eof: z.boolean().optional(),
});
export const EntrySchema = z.object({
  name: z.string(),
  type: z.string(),
  size: z.number(),
  mtime: z.number(),
  /** `ls -l` style (`-rw-r--r--`); ctime/atime in seconds (runners since the Python client's `ls`). */
  mode: z.string().optional(),
  ctime: z.number().optional(),
  atime: z.number().optional(),
});
export const EntriesEvent = z.object({
  ev: z.literal("entries"),
  id,
  items: z.array(EntrySchema),
});
export const OkEvent = z.object({ ev: z.literal("ok"), id });
export const ErrorEvent = z.object({
  ev: z.literal("error"),
  id: id.nullable().optional(),
  msg: z.string(),
  /** The OS error's symbolic name when an OS call failed (`ENOSPC`, `EDQUOT`, ...). */
  errno: z.string().max(32).optional(),
});

const chan = z.string();
/** Answer to `chan.open`: the channel exists; `window` is the agent's input credit. */
export const ChanOpenedEvent = z.object({
  ev: z.literal("chan.opened"),
  id,
  chan,
  kind: z.string(),
  window: z.number(),
  port: z.number().optional(),
  app: z.string().optional(),
  started: z.boolean().optional(),
  baseUrl: z.string().optional(),
});
/** Bytes from inside the container (base64, at most 64 KiB raw). */
export const ChanDataEvent = z.object({
  ev: z.literal("chan.data"),
  chan,
  data: z.string(),
});
/** The runner wrote `bytes` of the agent's input: that much more may be sent. */
export const ChanCreditEvent = z.object({
  ev: z.literal("chan.credit"),
  chan,
  bytes: z.number(),
});
/** The inside closed its side (TCP peer shut down writing; terminal hung up). */
export const ChanEofEvent = z.object({ ev: z.literal("chan.eof"), chan });
/** The channel ended (once per channel); a terminal's shell exit code. */
export const ChanClosedEvent = z.object({
  ev: z.literal("chan.closed"),
  chan,
  reason: z.string(),
  exitCode: z.number().optional(),
});
/** One service port the image declares (`ai.backend.service-ports`). */
export const AppEntrySchema = z.object({
  name: z.string(),
  protocol: z.string(),
  ports: z.array(z.number()),
  running: z.boolean(),
  baseUrl: z.string().nullable().optional(),
});
export const AppsEvent = z.object({
  ev: z.literal("apps"),
  id,
  items: z.array(AppEntrySchema),
});

/** Any frame the runner may send. */
export const RunnerEvent = z.discriminatedUnion("ev", [
  ReadyEvent,
  OutEvent,
  MediaEvent,
  HtmlEvent,
  WaitingInputEvent,
  StageEvent,
  DoneEvent,
  CompletionsEvent,
  FileEvent,
  EntriesEvent,
  OkEvent,
  ErrorEvent,
  ChanOpenedEvent,
  ChanDataEvent,
  ChanCreditEvent,
  ChanEofEvent,
  ChanClosedEvent,
  AppsEvent,
]);
export type RunnerEvent = z.infer<typeof RunnerEvent>;
export type ReadyEvent = z.infer<typeof ReadyEvent>;
export type DoneEvent = z.infer<typeof DoneEvent>;
export type DirEntry = z.infer<typeof EntrySchema>;
export type AppEntry = z.infer<typeof AppEntrySchema>;
export type ChanOpenedEvent = z.infer<typeof ChanOpenedEvent>;
/** Frames about an open channel (they carry `chan`, not `id`). */
export type ChanEvent = Extract<
  RunnerEvent,
  { ev: "chan.data" | "chan.credit" | "chan.eof" | "chan.closed" }
>;

/** Events that belong to a run (exec) and are streamed to its consumer. */
export type RunEvent = Extract<
  RunnerEvent,
  { ev: "out" | "media" | "html" | "waiting-input" | "stage" | "done" }
>;
