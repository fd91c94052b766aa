/**
 * A tar archive holding one regular file (POSIX ustar, with a pax `path`
 * record when the name does not fit ustar's 100 bytes or is not ASCII), as
 * Docker's archive endpoint gives the real manager for each downloaded file.
 *
 * @module
 */

const BLOCK = 512;
const enc = new TextEncoder();

/** Options of {@link tarOneFile}. */
export interface TarEntryOptions {
  /** Permission bits. @default {0o644} */
  mode?: number;
  /** Modification time, seconds since the epoch. @default {now} */
  mtime?: number;
}

function octal(value: number, width: number): string {
  // width - 1 digits and a NUL, as tar readers expect.
  return value.toString(8).padStart(width - 1, "0") + "\0";
}

function header(
  name: string,
  size: number,
  type: "0" | "x",
  opts: Required<TarEntryOptions>,
): Uint8Array {
  const h = new Uint8Array(BLOCK);
  const put = (off: number, text: string) => h.set(enc.encode(text), off);
  put(0, name);
  put(100, octal(opts.mode, 8));
  put(108, octal(0, 8)); // uid
  put(116, octal(0, 8)); // gid
  put(124, octal(size, 12));
  put(136, octal(Math.floor(opts.mtime), 12));
  put(148, "        "); // checksum field counts as spaces
  put(156, type);
  put(257, "ustar\0");
  put(263, "00");
  let sum = 0;
  for (const b of h) sum += b;
  put(148, sum.toString(8).padStart(6, "0") + "\0 ");
  return h;
}

function padded(data: Uint8Array): Uint8Array[] {
  const rest = data.length % BLOCK;
  return rest === 0 ? [data] : [data, new Uint8Array(BLOCK - rest)];
}

/** One pax record `"LEN key=value\n"`, LEN counting the whole record. */
function paxRecord(key: string, value: string): Uint8Array {
  const body = ` ${key}=${value}\n`;
  const bodyLen = enc.encode(body).length;
  let len = bodyLen + 1;
  while (String(len).length + bodyLen !== len) len++;
  return enc.encode(`${len}${body}`);
}

/**
 * A complete tar archive of one file `name` (a plain file name; the
 * extractor writes it where the archive is unpacked).
 *
 * @example
 * ```ts
 * import { tarOneFile } from "./tar.ts";
 * const tar = tarOneFile("a.txt", new TextEncoder().encode("hi"));
 * console.assert(tar.length === 512 * 4); // header, data, two end blocks
 * ```
 */
export function tarOneFile(
  name: string,
  data: Uint8Array,
  options: TarEntryOptions = {},
): Uint8Array<ArrayBuffer> {
  const opts = {
    mode: options.mode ?? 0o644,
    mtime: options.mtime ?? Date.now() / 1000,
  };
  const parts: Uint8Array[] = [];
  const plain = enc.encode(name).length <= 99 && /^[\x20-\x7e]+$/.test(name);
  if (!plain) {
    const pax = paxRecord("path", name);
    parts.push(header("PaxHeader", pax.length, "x", opts), ...padded(pax));
  }
  const short = plain ? name : name.replace(/[^\x20-\x7e]/g, "_").slice(0, 99);
  parts.push(header(short, data.length, "0", opts), ...padded(data));
  parts.push(new Uint8Array(BLOCK * 2));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
