/**
 * `cli run [FILE | -c CODE]`: runs code in a session and streams its output
 * over the WebSocket (`/stream/session/{name}/execute`) as it comes; a
 * program's `input()` is answered with a line from this terminal (or pipe),
 * and the client exits with the run's exit code.
 *
 * The session is created (`-i IMAGE`, default python; `-r SLOT=AMOUNT`) or,
 * with `--name` of a live one, reused: its interpreter state carries over.
 * `--rm` removes it afterwards, however the run ended (Ctrl-C included:
 * closing the stream interrupts the run).
 *
 * @module
 */

import { isEnded } from "../../actors/manager/lifecycle.ts";
import type { ApiClient } from "./client.ts";
import { CliError } from "./errors.ts";
import type { Output } from "./output.ts";
import { formatBytes } from "./progress.ts";
import { LineReader } from "./terminal.ts";

/** Options of {@link runCode}. */
export interface RunOptions {
  /** @default {"python"} */
  image?: string;
  /** @default {a new `cli-XXXXXXXX`} */
  name?: string;
  /** Remove the session afterwards. */
  rm: boolean;
  /** `-c CODE`. */
  code?: string;
  /** A file whose text is the code. */
  file?: string;
  /** `SLOT=AMOUNT` items (`cpu=2`, `mem=2g`). */
  resources: string[];
}

/** A console item of a stream frame (API.md "console"). */
type ConsoleItem = [string, unknown];

interface Frame {
  status?: string;
  console?: ConsoleItem[];
  exitCode?: number | null;
  options?: { is_password?: boolean } | null;
  msg?: string;
}

/**
 * `SLOT=AMOUNT` items as `config.resources` (numbers where they are
 * numbers; `mem=2g` stays text, the server reads binary sizes).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseResources } from "./run.ts";
 * const r = parseResources(["cpu=2", "mem=2g"]);
 * assert.ok(r.cpu === 2 && r.mem === "2g");
 * ```
 */
export function parseResources(
  items: string[],
): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const item of items) {
    const eq = item.indexOf("=");
    const slot = item.slice(0, eq).trim();
    const amount = item.slice(eq + 1).trim();
    if (eq <= 0 || !amount) {
      throw new CliError(
        `-r takes SLOT=AMOUNT (cpu=2, mem=2g), not ${JSON.stringify(item)}`,
        2,
      );
    }
    out[slot] = /^\d+(\.\d+)?$/.test(amount) ? Number(amount) : amount;
  }
  return out;
}

const newName = () =>
  "cli-" + crypto.getRandomValues(new Uint8Array(4)).toHex();

/** Runs the code (module doc); answers the exit code to exit with. */
export async function runCode(
  api: ApiClient,
  opts: RunOptions,
  io: Output,
): Promise<number> {
  const code = await codeOf(opts);
  const name = opts.name ?? newName();
  const resources = parseResources(opts.resources);
  const ref = encodeURIComponent(name);
  const lines = new LineReader();
  let socket: WebSocket | undefined;
  let interrupted = false;
  let started = false;
  const remove = () =>
    api.json("DELETE", `/session/${ref}`).catch((e) =>
      io.err(`cli: could not remove session ${name}: ${(e as Error).message}\n`)
    );
  const onInterrupt = () => {
    interrupted = true;
    // Streaming: closing the socket interrupts the run and ends it here.
    if (socket) return socket.close(1000);
    // Still creating or waiting: leave now (with --rm, cancelling it).
    (opts.rm ? remove() : Promise.resolve()).finally(() => Deno.exit(130));
  };
  Deno.addSignalListener("SIGINT", onInterrupt);
  let created: { status?: string; created?: boolean } = {};
  try {
    created = await api.json("POST", "/session", {
      image: opts.image ?? "python",
      name,
      config: { resources },
    });
    // A new session was waited for by the create (TIMEOUT: no agent had
    // room in time); a reused one may still be starting.
    const status = created.status === "TIMEOUT" ||
        created.status === "RUNNING"
      ? created.status
      : await waitRunning(api, ref);
    if (status !== "RUNNING") {
      const why = status === "TIMEOUT"
        ? "no agent had room for it within the wait"
        : `it is ${status}`;
      throw new CliError(
        `session ${name} did not start: ${why}` +
          (opts.rm
            ? ""
            : `; it stays queued (deno task cli rm ${name} cancels it)`),
      );
    }
    started = true;
    socket = await api.socket(`/stream/session/${ref}/execute`);
    const exit = await stream(socket, code, io, lines, () => interrupted);
    return interrupted ? 130 : exit;
  } finally {
    Deno.removeSignalListener("SIGINT", onInterrupt);
    if (opts.rm && created.status !== undefined) await remove();
    else if (started && created.created && !opts.name) {
      await io.err(
        `cli: session ${name} kept (run more with --name ${name}; deno task cli rm ${name} removes it)\n`,
      );
    }
  }
}

/** How long a reused session may take to reach RUNNING (the create's own wait). */
const START_WAIT_MS = 120_000;

/** Polls a starting session until RUNNING, ended, or {@link START_WAIT_MS} (TIMEOUT). */
async function waitRunning(api: ApiClient, ref: string): Promise<string> {
  const deadline = Date.now() + START_WAIT_MS;
  for (;;) {
    const { status } = await api.json<{ status: string }>(
      "GET",
      `/session/${ref}`,
    );
    if (status === "RUNNING" || isEnded(status)) return status;
    if (Date.now() > deadline) return "TIMEOUT";
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function codeOf(opts: RunOptions): Promise<string> {
  if (opts.code !== undefined && opts.file !== undefined) {
    throw new CliError("run takes a FILE or -c CODE, not both", 2);
  }
  if (opts.code !== undefined) return opts.code;
  if (opts.file === undefined) {
    throw new CliError("run needs a FILE or -c CODE", 2);
  }
  try {
    return await Deno.readTextFile(opts.file);
  } catch (e) {
    throw new CliError(
      e instanceof Deno.errors.NotFound
        ? `no such file: ${opts.file}`
        : `cannot read ${opts.file}: ${(e as Error).message}`,
      2,
    );
  }
}

/** Sends the code, relays frames and input; resolves with the exit code. */
function stream(
  socket: WebSocket,
  code: string,
  io: Output,
  lines: LineReader,
  interrupted: () => boolean,
): Promise<number> {
  return new Promise((resolve, reject) => {
    let finished = false;
    // Frames are handled one after another (writes and input in order).
    let chain = Promise.resolve();
    const handle = async (frame: Frame) => {
      await writeConsole(frame.console ?? [], io);
      if (frame.status === "error") {
        throw new CliError(`the run failed: ${frame.msg ?? "unknown error"}`);
      }
      if (frame.status === "waiting-input") {
        const line = frame.options?.is_password
          ? await lines.readSecret()
          : await lines.readLine();
        socket.send(line ?? "");
      } else if (frame.status === "finished") {
        finished = true;
        resolve(frame.exitCode ?? 0);
      }
    };
    socket.onmessage = (ev) => {
      let frame: Frame;
      try {
        frame = JSON.parse(String(ev.data));
      } catch {
        return reject(new CliError("the server sent a frame that is not JSON"));
      }
      chain = chain.then(() => handle(frame)).catch((e) => {
        reject(e);
        socket.close();
      });
    };
    socket.onclose = () => {
      chain.then(() => {
        if (finished) return;
        if (interrupted()) resolve(130);
        else reject(new CliError("the stream closed before the run finished"));
      });
    };
    socket.send(JSON.stringify({ code, mode: "query", options: {} }));
  });
}

async function writeConsole(items: ConsoleItem[], io: Output): Promise<void> {
  for (const [kind, data] of items) {
    if (kind === "stdout" || kind === "html") await io.out(String(data));
    else if (kind === "stderr") await io.err(String(data));
    else if (kind === "media" && Array.isArray(data)) {
      const [mime, body] = data as [string, string];
      await io.err(
        `[${mime}, ${
          formatBytes(Math.floor((body?.length ?? 0) * 3 / 4))
        }: not shown here]\n`,
      );
    }
  }
}
