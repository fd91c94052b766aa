/**
 * `cli METHOD PATH [JSON]`: one signed request, for scripts and operators.
 * PATH may carry a query (`GET '/x/admin/sessions?status=RUNNING'`); JSON
 * (or `-` for stdin) is the body, on a GET too (sent with the method
 * override). The status line goes to stderr and the answer to stdout
 * (pretty JSON, or only the `--pick` fields), so stdout pipes cleanly;
 * `-o FILE` saves the answer instead.
 *
 * @module
 */

import type { ApiClient } from "./client.ts";
import { CliError } from "./errors.ts";
import { type Output, pick } from "./output.ts";
import { saveBody } from "./transfer.ts";

/** Options of {@link rawRequest}. */
export interface RawOptions {
  method: string;
  path: string;
  /** JSON text, or `-` to read it from stdin. */
  json?: string;
  /** `--pick a.b,c`: print only these fields. */
  pick?: string;
  /** `-o FILE`: save the answer's bytes. */
  output?: string;
}

/** Sends the request; a non-2xx answer is a {@link CliError}. */
export async function rawRequest(
  api: ApiClient,
  opts: RawOptions,
  io: Output,
): Promise<void> {
  if (!opts.path.startsWith("/")) {
    throw new CliError(`the path must start with /: ${opts.path}`, 2);
  }
  const method = opts.method.toUpperCase();
  const body = await bodyOf(opts.json);
  const res = await api.send(method, opts.path, body);
  if (!res.ok) throw await api.failure(method, opts.path, res);
  await io.err(`${res.status} ${res.statusText}\n`);
  if (opts.output !== undefined) {
    return await saveBody(res, opts.output, `${method} ${opts.path}`);
  }
  const text = await res.text();
  if (!text) return;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    if (opts.pick) throw new CliError("--pick needs a JSON answer");
    return await io.out(text.endsWith("\n") ? text : text + "\n");
  }
  if (opts.pick) {
    try {
      return await io.out(pick(parsed, opts.pick));
    } catch (e) {
      throw new CliError((e as Error).message);
    }
  }
  await io.out(JSON.stringify(parsed, null, 2) + "\n");
}

async function bodyOf(json: string | undefined): Promise<unknown> {
  if (json === undefined) return undefined;
  const text = json === "-"
    ? await new Response(Deno.stdin.readable).text()
    : json;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CliError(`the body is not JSON: ${(e as Error).message}`, 2);
  }
}
