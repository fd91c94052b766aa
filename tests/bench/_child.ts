/**
 * A benchmark's helper process announces itself with one stdout line (its
 * URL or ports); this reads that line.
 *
 * @module
 */

/** The first line `child` prints on stdout, without the newline. */
export async function firstLine(child: Deno.ChildProcess): Promise<string> {
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the benchmark's helper process exited early");
    text += value;
  }
  reader.releaseLock();
  return text.slice(0, text.indexOf("\n"));
}
