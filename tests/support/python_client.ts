/**
 * Runs Backend.AI's real Python SDK and CLI 22.03.2 (`../shared/clients/`,
 * unchanged) with Debian's python3: the tarball is unpacked once per test
 * process into a temp dir, then `python3 -m ai.backend.client.cli ARGS` (the
 * `backend.ai` command) or an SDK script (`python3 -c`) runs with
 * `BACKEND_ENDPOINT`, the keypair and `PYTHONPATH` set, stdout, stderr and
 * the exit code captured, under a timeout.
 *
 * Many CLI commands print `✘ ...` and exit 0 on failure: judge by output.
 *
 * @example
 * ```ts ignore
 * const py = await pythonClient();
 * if (typeof py === "string") console.log(`skipped: ${py}`);
 * else console.log((await py.cli(creds, endpoint, ["config"])).stdout);
 * ```
 *
 * @module
 */
import type { Credentials } from "../../routes/cli/sign.ts";

/** Where the released client tarball lives (test data, not project code). */
export const CLIENT_TARBALL = new URL(
  "../../../shared/clients/backend.ai-python-client-22.03.2.tar.gz",
  import.meta.url,
).pathname;

/** The Debian packages the client needs (`../shared/clients/README.md`). */
export const PYTHON_MODULES = [
  "aiohttp",
  "click",
  "yarl",
  "multidict",
  "tqdm",
  "humanize",
  "appdirs",
  "tabulate",
  "dateutil",
  "attr",
  "async_timeout",
  "colorama",
  "janus",
  "rich",
  "yaml",
];

const PYTHON = "/usr/bin/python3";

/** What one client run printed and how it ended. */
export interface ClientRun {
  stdout: string;
  stderr: string;
  code: number;
  /** stdout and stderr together (the CLI prints its ✔/✘ lines on either). */
  output: string;
}

/** Options of a run. */
export interface RunOptions {
  /** Working directory (files given to `run`/`upload` are relative to it). */
  cwd?: string;
  /** Killed after this long. @default {120000} */
  timeoutMs?: number;
  /** Text written to the process's stdin (then closed). */
  stdin?: string;
  /** Ends the process (SIGTERM) when aborted: a command that runs until stopped (`app`). */
  signal?: AbortSignal;
}

/** The unpacked client, ready to run. */
export interface PythonClient {
  /** `backend.ai ARGS...` as `creds` against `endpoint`. */
  cli(
    creds: Credentials,
    endpoint: string,
    args: string[],
    options?: RunOptions,
  ): Promise<ClientRun>;
  /** An SDK script (`python3 -c SCRIPT`) with the same environment. */
  sdk(
    creds: Credentials,
    endpoint: string,
    script: string,
    options?: RunOptions,
  ): Promise<ClientRun>;
}

let unpacked: Promise<PythonClient | string> | undefined;

/**
 * The client, or the reason it cannot run here (no python3, a missing
 * Debian package, no tarball): tests print the reason and skip.
 */
export function pythonClient(): Promise<PythonClient | string> {
  unpacked ??= prepare();
  return unpacked;
}

async function prepare(): Promise<PythonClient | string> {
  try {
    await Deno.stat(PYTHON);
  } catch {
    return `${PYTHON} is missing (apt-get install python3)`;
  }
  try {
    await Deno.stat(CLIENT_TARBALL);
  } catch {
    return `the client tarball is missing: ${CLIENT_TARBALL}`;
  }
  const probe = await new Deno.Command(PYTHON, {
    args: [
      "-c",
      `import importlib.util,sys
missing=[m for m in sys.argv[1:] if importlib.util.find_spec(m) is None]
print(" ".join(missing))`,
      ...PYTHON_MODULES,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const missing = new TextDecoder().decode(probe.stdout).trim();
  if (!probe.success || missing) {
    return `Debian python3 packages missing: ${
      missing || "(probe failed)"
    } (see ../shared/clients/README.md; .ci/run installs them)`;
  }
  const dir = await Deno.makeTempDir({ prefix: "bai-pyclient-" });
  const tar = await new Deno.Command("tar", {
    args: ["xzf", CLIENT_TARBALL, "-C", dir],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!tar.success) {
    return `cannot unpack the client: ${new TextDecoder().decode(tar.stderr)}`;
  }
  globalThis.addEventListener("unload", () => {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch { /* already gone */ }
  });
  const pythonPath = [
    `${dir}/backend.ai-client-py-22.03.2/src`,
    `${dir}/backend.ai-cli-0.6.0/src`,
    `${dir}/aiotusclient-0.1.4`,
  ].join(":");
  const home = `${dir}/home`;
  await Deno.mkdir(home);

  const spawn = async (
    creds: Credentials,
    endpoint: string,
    args: string[],
    options: RunOptions = {},
  ): Promise<ClientRun> => {
    const child = new Deno.Command(PYTHON, {
      args,
      cwd: options.cwd,
      clearEnv: true,
      env: {
        PATH: "/usr/bin:/bin",
        // The client keeps caches and logs under ~/.cache/backend.ai.
        HOME: home,
        LANG: "C.UTF-8",
        PYTHONPATH: pythonPath,
        PYTHONUNBUFFERED: "1",
        BACKEND_ENDPOINT: endpoint,
        BACKEND_ENDPOINT_TYPE: "api",
        BACKEND_ACCESS_KEY: creds.accessKey,
        BACKEND_SECRET_KEY: creds.secretKey,
      },
      stdin: options.stdin !== undefined ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    if (options.stdin !== undefined) {
      const w = child.stdin.getWriter();
      await w.write(new TextEncoder().encode(options.stdin));
      await w.close();
    }
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* ended */ }
    }, options.timeoutMs ?? 120_000);
    const stop = () => {
      try {
        child.kill("SIGTERM");
      } catch { /* ended */ }
    };
    options.signal?.addEventListener("abort", stop);
    const out = await child.output();
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", stop);
    const dec = new TextDecoder();
    const stdout = dec.decode(out.stdout);
    const stderr = dec.decode(out.stderr);
    return {
      stdout,
      stderr,
      code: out.code,
      output: `${stdout}\n${stderr}`,
    };
  };

  return {
    cli: (creds, endpoint, args, options) =>
      spawn(
        creds,
        endpoint,
        ["-m", "ai.backend.client.cli", ...args],
        options,
      ),
    sdk: (creds, endpoint, script, options) =>
      spawn(creds, endpoint, ["-c", script], options),
  };
}
