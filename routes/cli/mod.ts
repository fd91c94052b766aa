/**
 * `deno task cli`: our own client for the API (the real Backend.AI CLI
 * stays the compatibility target; this one is for people at this
 * cluster). It finds the cluster by itself (target.ts), signs every
 * request (sign.ts), and tells every failure in one line (errors.ts).
 *
 * @example
 * ```sh
 * deno task cli run -c 'print(6 * 7)' --rm
 * deno task cli run train.py --name exp1 -r cpu=2 -r mem=4g
 * deno task cli ps
 * deno task cli upload exp1 data.csv && deno task cli download exp1 out.png
 * deno task cli GET '/x/admin/sessions?status=RUNNING'
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { OVERRIDABLE_METHODS } from "../override.ts";
import { ApiClient } from "./client.ts";
import { CliError } from "./errors.ts";
import { type Output, stdio } from "./output.ts";
import { rawRequest } from "./raw.ts";
import { runCode } from "./run.ts";
import { listSessions, removeSessions, showLogs } from "./sessions.ts";
import { readTextIfAny, resolveTarget } from "./target.ts";
import { downloadFiles, uploadFiles } from "./transfer.ts";

export {
  CLIENT_API_VERSION,
  type Credentials,
  openSignedSocket,
  signedFetch,
} from "./sign.ts";

/** The help text. */
export const USAGE = `usage: deno task cli [TARGET] VERB ...

verbs:
  run [FILE | -c CODE] [-i IMAGE] [--name NAME] [--rm] [-r SLOT=AMOUNT]...
                        run code in a session, streaming its output; input()
                        reads this terminal; exits with the run's exit code
  ps [--all]            this keypair's sessions (--all: ended ones too)
  logs SESSION          the kernel's log
  upload SESSION FILE...             files into the session's work dir
  download SESSION PATH... [-o DIR]  files out of it (into DIR, default .)
  rm SESSION...         end sessions
  METHOD PATH [JSON] [--pick A.B,C] [-o FILE]
                        one signed request (JSON "-" reads stdin)

TARGET (else BACKEND_ENDPOINT, BACKEND_ACCESS_KEY, BACKEND_SECRET_KEY, else
the local cluster: $DATA_DIR/endpoint and $DATA_DIR/admin.keypair, DATA_DIR
default ./var):
  --endpoint URL  --access-key AK --secret-key SK  --keypair FILE
`;

const OPTIONS = {
  endpoint: { type: "string" },
  "access-key": { type: "string" },
  "secret-key": { type: "string" },
  keypair: { type: "string" },
  help: { type: "boolean", short: "h" },
  // run
  code: { type: "string", short: "c" },
  image: { type: "string", short: "i" },
  name: { type: "string" },
  rm: { type: "boolean" },
  resource: { type: "string", short: "r", multiple: true },
  // ps
  all: { type: "boolean" },
  // download, raw
  output: { type: "string", short: "o" },
  pick: { type: "string", short: "p" },
} as const;

/** Methods the raw form takes: what the API's routes use (override.ts). */
const HTTP_METHODS = OVERRIDABLE_METHODS;

type Values = ReturnType<typeof parse>["values"];

function parse(args: string[]) {
  try {
    return parseArgs({ args, options: OPTIONS, allowPositionals: true });
  } catch (e) {
    throw new CliError(
      `${(e as Error).message} (deno task cli --help)`,
      2,
    );
  }
}

/** Runs one command; answers the process exit code. */
export async function main(
  args: string[],
  io: Output = stdio,
  env: Record<string, string | undefined> = Deno.env.toObject(),
): Promise<number> {
  const { values, positionals } = parse(args);
  const [verb, ...rest] = positionals;
  if (values.help || verb === undefined || verb === "help") {
    await (verb === undefined && !values.help ? io.err : io.out)(USAGE);
    return verb === undefined && !values.help ? 2 : 0;
  }
  const api = new ApiClient(
    await resolveTarget({
      endpoint: values.endpoint,
      accessKey: values["access-key"],
      secretKey: values["secret-key"],
      keypairFile: values.keypair,
      env,
      readText: readTextIfAny,
    }),
  );
  return await dispatch(api, verb, rest, values, io);
}

async function dispatch(
  api: ApiClient,
  verb: string,
  rest: string[],
  v: Values,
  io: Output,
): Promise<number> {
  const one = (what: string) => {
    if (rest.length !== 1) throw new CliError(`${verb} takes one ${what}`, 2);
    return rest[0];
  };
  switch (verb) {
    case "run":
      if (rest.length > 1) throw new CliError("run takes one FILE", 2);
      return await runCode(api, {
        image: v.image,
        name: v.name,
        rm: v.rm ?? false,
        code: v.code,
        file: rest[0],
        resources: v.resource ?? [],
      }, io);
    case "ps":
      await listSessions(api, v.all ?? false, io);
      return 0;
    case "logs":
      await showLogs(api, one("SESSION"), io);
      return 0;
    case "rm":
      if (rest.length === 0) throw new CliError("rm needs SESSION...", 2);
      return await removeSessions(api, rest, io) ? 0 : 1;
    case "upload": {
      const [ref, ...files] = rest;
      if (!ref) throw new CliError("upload needs SESSION FILE...", 2);
      await uploadFiles(api, ref, files);
      return 0;
    }
    case "download": {
      const [ref, ...paths] = rest;
      if (!ref) throw new CliError("download needs SESSION PATH...", 2);
      await downloadFiles(api, ref, paths, v.output ?? ".");
      return 0;
    }
    default:
      if (!HTTP_METHODS.has(verb.toUpperCase())) {
        throw new CliError(
          `unknown verb "${verb}" (deno task cli --help lists them)`,
          2,
        );
      }
      if (rest.length < 1 || rest.length > 2) {
        throw new CliError(
          `a raw request is METHOD PATH [JSON] (${verb} needs a PATH)`,
          2,
        );
      }
      await rawRequest(api, {
        method: verb,
        path: rest[0],
        json: rest[1],
        pick: v.pick,
        output: v.output,
      }, io);
      return 0;
  }
}

/** The `cli` role (main.ts): one line on failure, never a stack. */
export async function run(args: string[]): Promise<void> {
  let code: number;
  try {
    code = await main(args);
  } catch (e) {
    // Even a failure the client did not foresee is one line, not a stack.
    const line = e instanceof CliError
      ? e.message
      : `unexpected failure (a bug in the client): ${e}`;
    await stdio.err(`cli: ${line}\n`);
    code = e instanceof CliError ? e.exitCode : 1;
  }
  Deno.exit(Math.max(0, Math.min(255, code)));
}
