/**
 * The few docker CLI calls the build needs. The CLI (not the Engine API) is
 * used because `docker build` with a context dir and `docker import` are
 * one line each here, and the build runs rarely.
 *
 * @module
 */
import { EngineUnavailableError } from "./errors.ts";

/** Result of a finished command. */
export interface CmdResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; throws EngineUnavailableError if it is not installed. */
export async function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
): Promise<CmdResult> {
  try {
    const out = await new Deno.Command(cmd, {
      args,
      cwd: opts.cwd,
      env: opts.env,
      stdout: "piped",
      stderr: "piped",
    })
      .output();
    const dec = new TextDecoder();
    return {
      code: out.code,
      stdout: dec.decode(out.stdout),
      stderr: dec.decode(out.stderr),
    };
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new EngineUnavailableError(`${cmd} is not installed`, undefined, {
        cause: e,
      });
    }
    throw e;
  }
}

/**
 * Runs a command and hands each output line (stdout and stderr merged) to
 * `onLine` as it arrives; resolves with the exit code.
 */
export async function stream(
  cmd: string,
  args: string[],
  onLine: (line: string) => void,
  opts: { cwd?: string; env?: Record<string, string> } = {},
): Promise<number> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(cmd, {
      args,
      cwd: opts.cwd,
      env: opts.env,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new EngineUnavailableError(`${cmd} is not installed`, undefined, {
        cause: e,
      });
    }
    throw e;
  }
  const pump = async (s: ReadableStream<Uint8Array>) => {
    let buf = "";
    for await (const chunk of s.pipeThrough(new TextDecoderStream())) {
      buf += chunk;
      const lines = buf.split(/\r?\n|\r/);
      buf = lines.pop() ?? "";
      for (const l of lines) onLine(l);
    }
    if (buf) onLine(buf);
  };
  const [status] = await Promise.all([
    child.status,
    pump(child.stdout),
    pump(child.stderr),
  ]);
  return status.code;
}

/** Throws EngineUnavailableError unless `docker version` reaches the engine. */
export async function assertEngine(): Promise<void> {
  const r = await run("docker", ["version", "--format", "{{.Server.Version}}"]);
  if (r.code !== 0) {
    throw new EngineUnavailableError(
      `the Docker engine does not answer: ${r.stderr.trim()}`,
    );
  }
}

/** Image metadata as `docker image inspect` reports it (the part we use). */
export interface InspectedImage {
  Id: string;
  RepoTags: string[] | null;
  Size: number;
  Created: string;
  Config: { Labels: Record<string, string> | null };
}

/** Inspects images; missing ones are simply absent from the result. */
export async function inspect(refs: string[]): Promise<InspectedImage[]> {
  if (refs.length === 0) return [];
  const r = await run("docker", ["image", "inspect", ...refs]);
  if (r.code !== 0 && !r.stdout.trim().startsWith("[")) return [];
  return JSON.parse(r.stdout || "[]") as InspectedImage[];
}
