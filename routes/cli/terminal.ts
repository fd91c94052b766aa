/**
 * Lines from the user's terminal (or a pipe) to answer a program's
 * `input()`; a password prompt reads without echo when stdin is a terminal.
 *
 * @module
 */

const decoder = new TextDecoder();

/** Reads lines from a byte stream, keeping what it read past a line for the next call. */
export class LineReader {
  #buffer = "";
  #reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  #ended = false;

  constructor(
    readonly source: () => ReadableStream<Uint8Array> = () =>
      Deno.stdin.readable,
  ) {}

  /** The next line without its newline; undefined at end of input. */
  async readLine(): Promise<string | undefined> {
    for (;;) {
      const nl = this.#buffer.indexOf("\n");
      if (nl >= 0) {
        const line = this.#buffer.slice(0, nl).replace(/\r$/, "");
        this.#buffer = this.#buffer.slice(nl + 1);
        return line;
      }
      const chunk = await this.#read();
      if (chunk === undefined) {
        if (this.#buffer === "") return undefined;
        const rest = this.#buffer;
        this.#buffer = "";
        return rest;
      }
      this.#buffer += chunk;
    }
  }

  /**
   * A line typed without echo (a password): the terminal is put in raw
   * mode for it; from a pipe it is an ordinary line.
   */
  async readSecret(): Promise<string | undefined> {
    if (!Deno.stdin.isTerminal() || this.#buffer !== "") {
      return await this.readLine();
    }
    Deno.stdin.setRaw(true);
    try {
      let line = "";
      for (;;) {
        const chunk = await this.#read();
        if (chunk === undefined) return line;
        for (const ch of chunk) {
          if (ch === "\r" || ch === "\n") return line;
          if (ch === "\x03") throw new Deno.errors.Interrupted("interrupted");
          if (ch === "\x7f" || ch === "\b") line = line.slice(0, -1);
          else line += ch;
        }
      }
    } finally {
      Deno.stdin.setRaw(false);
      Deno.stderr.writeSync(new TextEncoder().encode("\n"));
    }
  }

  async #read(): Promise<string | undefined> {
    if (this.#ended) return undefined;
    this.#reader ??= this.source().getReader();
    const { done, value } = await this.#reader.read();
    if (done) {
      this.#ended = true;
      return undefined;
    }
    return decoder.decode(value, { stream: true });
  }

  /** Lets go of stdin (so the process can exit while no read is pending). */
  release(): void {
    this.#reader?.releaseLock();
    this.#reader = undefined;
  }
}
