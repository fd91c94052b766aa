/**
 * Running the filesystem tools (`mkfs.btrfs`, `mount`, `btrfs`) as child
 * processes: one place that turns a non-zero exit into a {@link VolumeError}
 * carrying the tool's own message.
 *
 * @module
 */

/** A filesystem tool failed or is missing. */
export class VolumeError extends Error {
  override name = "VolumeError";
  constructor(
    message: string,
    /** The tool's stderr, trimmed. */
    readonly detail = "",
    /** The tool is not installed (ENOENT on spawn). */
    readonly missing = false,
  ) {
    super(detail ? `${message}: ${detail}` : message);
  }
}

const decoder = new TextDecoder();

/** Runs `cmd args...`; resolves with stdout, throws {@link VolumeError} on failure. */
export async function exec(cmd: string, args: string[]): Promise<string> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(cmd, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new VolumeError(`${cmd} is not installed`, "", true);
    }
    throw e;
  }
  if (!out.success) {
    throw new VolumeError(
      `${cmd} ${args.join(" ")} exited with ${out.code}`,
      decoder.decode(out.stderr).trim(),
    );
  }
  return decoder.decode(out.stdout);
}

/** Whether `cmd` can be run (found on PATH). */
export async function hasTool(cmd: string): Promise<boolean> {
  try {
    await new Deno.Command(cmd, {
      args: ["--version"],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).output();
    return true;
  } catch {
    return false;
  }
}
