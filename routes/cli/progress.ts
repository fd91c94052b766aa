/**
 * Transfer progress on stderr: on a terminal one line redrawn in place
 * (`upload a.csv  1.2 MiB / 3.0 MiB  40%`), at most ten times a second;
 * elsewhere (a pipe, a log) only the final line, so logs stay readable.
 *
 * @module
 */

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

/**
 * Bytes for people: `512 B`, `1.5 KiB`, `3.0 MiB`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatBytes } from "./progress.ts";
 * assert.ok(formatBytes(1536) === "1.5 KiB");
 * assert.ok(formatBytes(12) === "12 B");
 * ```
 */
export function formatBytes(n: number): string {
  let i = 0;
  let v = n;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${UNITS[i]}`;
}

/**
 * The progress line: `LABEL DONE / TOTAL PCT%`, or `LABEL DONE` when the
 * total is unknown.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { progressLine } from "./progress.ts";
 * assert.ok(progressLine("upload a.txt", 512, 2048) === "upload a.txt 512 B / 2.0 KiB 25%");
 * assert.ok(progressLine("download b", 3, undefined) === "download b 3 B");
 * ```
 */
export function progressLine(
  label: string,
  done: number,
  total: number | undefined,
): string {
  if (total === undefined || total <= 0) return `${label} ${formatBytes(done)}`;
  const pct = Math.min(100, Math.floor((done / total) * 100));
  return `${label} ${formatBytes(done)} / ${formatBytes(total)} ${pct}%`;
}

/** Options of {@link Progress}. */
export interface ProgressOptions {
  /** Redraw in place (a terminal). @default {Deno.stderr.isTerminal()} */
  live?: boolean;
  /** Where lines go. @default {stderr} */
  write?: (text: string) => void;
  /** Clock. @default {performance.now} */
  now?: () => number;
}

const encoder = new TextEncoder();

/** A progress display for one transfer. */
export class Progress {
  #done = 0;
  #last = -Infinity;
  readonly #live: boolean;
  readonly #write: (text: string) => void;
  readonly #now: () => number;

  constructor(
    readonly label: string,
    readonly total: number | undefined,
    options: ProgressOptions = {},
  ) {
    this.#live = options.live ?? Deno.stderr.isTerminal();
    this.#write = options.write ??
      ((t) => Deno.stderr.writeSync(encoder.encode(t)));
    this.#now = options.now ?? (() => performance.now());
  }

  /** Bytes so far. */
  get done(): number {
    return this.#done;
  }

  /** Counts `n` more bytes (redraws at most every 100 ms on a terminal). */
  add(n: number): void {
    this.#done += n;
    if (!this.#live) return;
    const t = this.#now();
    if (t - this.#last < 100) return;
    this.#last = t;
    this.#write(`\r${progressLine(this.label, this.#done, this.total)}\x1b[K`);
  }

  /** The final line (`suffix` e.g. ` → ./out.txt`), ending the display. */
  finish(suffix = ""): void {
    const line = progressLine(this.label, this.#done, this.total) + suffix;
    this.#write(this.#live ? `\r${line}\x1b[K\n` : `${line}\n`);
  }

  /**
   * A stream passing `source` through while counting its bytes.
   */
  counting(
    source: ReadableStream<Uint8Array>,
  ): ReadableStream<Uint8Array> {
    return source.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform: (chunk, ctl) => {
          this.add(chunk.byteLength);
          ctl.enqueue(chunk);
        },
      }),
    );
  }
}
