/**
 * Our client (`deno task cli`, routes/cli/) against a real cluster
 * (tests/support/cluster.ts), run as users run it: `deno run -A main.ts
 * cli ...` in a process of its own, judged by its stdout, stderr and exit
 * code.
 *
 * @module
 */

import { assert, assertEquals, assertMatch } from "./support/assert.ts";
import { startCluster, type TestCluster } from "./support/cluster.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the client with exactly `env` (plus PATH/HOME), in `cwd`. */
async function cli(
  args: string[],
  env: Record<string, string>,
  opts: { stdin?: string; cwd?: string } = {},
): Promise<Ran> {
  const proc = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "cli", ...args],
    clearEnv: true,
    env: {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      HOME: Deno.env.get("HOME") ?? "/root",
      NO_COLOR: "1",
      ...env,
    },
    cwd: opts.cwd,
    stdin: opts.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (opts.stdin !== undefined) {
    const w = proc.stdin.getWriter();
    await w.write(new TextEncoder().encode(opts.stdin));
    await w.close();
  }
  const out = await proc.output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

/** The client's way of failing: exactly one `cli: ...` line, no stack. */
function oneLine(r: Ran, re: RegExp, code = 1): void {
  const lines = r.stderr.trimEnd().split("\n");
  assertEquals(lines.length, 1, `one line expected, got:\n${r.stderr}`);
  assertMatch(lines[0], /^cli: /);
  assertMatch(lines[0], re);
  assertEquals(r.code, code, r.stderr);
}

function adminEnv(c: TestCluster): Record<string, string> {
  return {
    BACKEND_ENDPOINT: c.endpoint,
    BACKEND_ACCESS_KEY: c.admin.accessKey,
    BACKEND_SECRET_KEY: c.admin.secretKey,
  };
}

function closedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test({
  name:
    "cli: finds the local cluster, runs code with its exit code and input, moves files, and fails in one line",
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  const c = await startCluster({ agents: 1 });
  const work = await Deno.makeTempDir({ prefix: "bai-cli-" });
  try {
    await t.step(
      "the data dir alone: var/endpoint and var/admin.keypair",
      async () => {
        // The manager wrote the URL it serves; the keypair file is what a
        // manager that generated its admin keypair saves (this one was given
        // it through ADMIN_ACCESS_KEY, so the test writes the same file).
        assertEquals(
          (await Deno.readTextFile(`${c.dataDir}/endpoint`)).trim(),
          c.endpoint,
        );
        await Deno.writeTextFile(
          `${c.dataDir}/admin.keypair`,
          JSON.stringify(c.admin),
        );
        const r = await cli(["run", "--rm", "-c", "print(6 * 7)"], {
          DATA_DIR: c.dataDir,
        });
        assertEquals([r.stdout, r.stderr, r.code], ["42\n", "", 0]);
      },
    );

    const env = adminEnv(c);
    await t.step(
      "run: the exit code is the run's; a traceback shows only the user's code",
      async () => {
        const exit3 = await cli(
          ["run", "--rm", "-c", "raise SystemExit(3)"],
          env,
        );
        assertEquals(exit3.code, 3, exit3.stderr);
        const boom = await cli(
          ["run", "--rm", "-c", "def f():\n    return 1 / 0\nf()"],
          env,
        );
        assertEquals(boom.code, 1);
        assertMatch(boom.stderr, /ZeroDivisionError: division by zero/);
        assertMatch(boom.stderr, /File "<cell-1>", line 3/);
        assert(!/bai_|runner|ast\.py/.test(boom.stderr), boom.stderr);
        const syntax = await cli(["run", "--rm", "-c", "print(("], env);
        assertEquals(syntax.code, 1);
        assertMatch(syntax.stderr, /SyntaxError/);
        assert(
          !/bai_|runner|ast\.py|Traceback/.test(syntax.stderr),
          syntax.stderr,
        );
      },
    );

    await t.step(
      "run: input() is answered from stdin; a file runs; -r sets resources",
      async () => {
        const asked = await cli(
          ["run", "--rm", "-c", 'name = input("name? ")\nprint("hi", name)'],
          env,
          { stdin: "Ada\n" },
        );
        assertEquals([asked.stdout, asked.code], ["name? hi Ada\n", 0]);
        await Deno.writeTextFile(
          `${work}/prog.py`,
          "import os\nprint(os.cpu_count() is not None, 2 + 3)\n",
        );
        const file = await cli(
          [
            "run",
            "prog.py",
            "--name",
            "cli-files",
            "-r",
            "cpu=1",
            "-r",
            "mem=512m",
          ],
          env,
          { cwd: work },
        );
        assertEquals([file.stdout, file.code], ["True 5\n", 0], file.stderr);
        const info = await cli([
          "GET",
          "/session/cli-files",
          "--pick",
          "occupiedSlots",
        ], env);
        assertEquals(JSON.parse(info.stdout), { cpu: 1, mem: 512 * 2 ** 20 });
        // The same name again: the same session, its state kept.
        await cli(["run", "--name", "cli-files", "-c", "kept = 41"], env);
        const again = await cli([
          "run",
          "--name",
          "cli-files",
          "-c",
          "print(kept + 1)",
        ], env);
        assertEquals(again.stdout, "42\n");
      },
    );

    await t.step("upload, download, ps, logs, rm", async () => {
      await Deno.writeTextFile(`${work}/a.txt`, "alpha\n");
      await Deno.mkdir(`${work}/sub`, { recursive: true });
      await Deno.writeTextFile(`${work}/sub/b.txt`, "beta\n");
      const up = await cli(["upload", "cli-files", "a.txt", "sub/b.txt"], env, {
        cwd: work,
      });
      assertEquals(up.code, 0, up.stderr);
      assertEquals(up.stderr, "upload a.txt sub/b.txt 11 B / 11 B 100%\n");
      const made = await cli([
        "run",
        "--name",
        "cli-files",
        "-c",
        "open('out.txt', 'w').write(open('a.txt').read() + open('sub/b.txt').read()); None",
      ], env);
      assertEquals(made.code, 0, made.stderr);
      const out = `${work}/got`;
      await Deno.mkdir(out);
      const down = await cli(
        ["download", "cli-files", "out.txt", "-o", out],
        env,
      );
      assertEquals(down.code, 0, down.stderr);
      assertMatch(
        down.stderr,
        /^download out\.txt 11 B.* → .*got\/out\.txt\n$/,
      );
      assertEquals(await Deno.readTextFile(`${out}/out.txt`), "alpha\nbeta\n");

      const ps = await cli(["ps"], env);
      assertMatch(ps.stdout, /^NAME +STATUS +IMAGE +CREATED +ID\n/);
      assertMatch(ps.stdout, /\ncli-files +RUNNING +\S*python/);
      const logs = await cli(["logs", "cli-files"], env);
      assertEquals(logs.code, 0, logs.stderr);

      const rm = await cli(["rm", "cli-files"], env);
      assertEquals([rm.stdout, rm.code], ["removed cli-files\n", 0]);
      const after = await cli(["ps"], env);
      assert(!after.stdout.includes("cli-files"), after.stdout);
      const all = await cli(["ps", "--all"], env);
      assertMatch(all.stdout, /\ncli-files +TERMINATED/);
    });

    await t.step(
      "raw: a query-string GET, a GET with a JSON body, --pick",
      async () => {
        await cli(
          ["POST", "/session", '{"image":"python","name":"cli-raw"}'],
          env,
        );
        const q = await cli([
          "GET",
          "/x/admin/sessions?status=RUNNING&limit=5",
          "--pick",
          "total",
        ], env);
        assertEquals([q.stdout, q.stderr, q.code], ["1\n", "200 OK\n", 0]);
        const body = await cli([
          "GET",
          "/session/cli-raw/files",
          '{"path":"."}',
          "--pick",
          "abspath",
        ], env);
        assertEquals([body.stdout, body.code], [".\n", 0], body.stderr);
        const piped = await cli(["POST", "/session/cli-raw", "-"], env, {
          stdin: '{"mode":"query","code":"print(7 * 6)","runId":null}',
        });
        assertEquals(JSON.parse(piped.stdout).result.console, [[
          "stdout",
          "42\n",
        ]]);
      },
    );

    await t.step("failures: one line each, with the real cause", async () => {
      const port = closedPort();
      oneLine(
        await cli(["ps"], {
          ...env,
          BACKEND_ENDPOINT: `http://127.0.0.1:${port}`,
        }),
        new RegExp(
          `cannot reach http://127\\.0\\.0\\.1:${port}: connection refused`,
        ),
      );
      oneLine(
        await cli(["ps"], {
          BACKEND_ENDPOINT: c.endpoint,
          BACKEND_ACCESS_KEY: "AKIAHALF",
        }),
        /BACKEND_ACCESS_KEY is set but BACKEND_SECRET_KEY is not/,
        2,
      );
      oneLine(
        await cli(["GET", "/session/no-such-session"], env),
        /GET \/session\/no-such-session → 404 object-not-found/,
      );
      oneLine(
        await cli([
          "POST",
          "/session",
          '{"image":"python","name":"cli-top","resources":{"cpu":2}}',
        ], env),
        /400 invalid-api-params: .*resources go inside config/,
      );
      const user = await c.newKeypair();
      const userEnv = {
        BACKEND_ENDPOINT: c.endpoint,
        BACKEND_ACCESS_KEY: user.accessKey,
        BACKEND_SECRET_KEY: user.secretKey,
      };
      assertEquals((await cli(["ps"], userEnv)).code, 0);
      await c.json("POST", `/x/admin/keypairs/${user.accessKey}/deactivate`);
      oneLine(
        await cli(["ps"], userEnv),
        new RegExp(
          `401 auth-failed: .*Access key is inactive \\[keypair ${user.accessKey} from BACKEND_ACCESS_KEY\\]`,
        ),
      );
      oneLine(await cli(["frobnicate"], env), /unknown verb "frobnicate"/, 2);
    });
  } finally {
    await c.stop();
    await Deno.remove(work, { recursive: true }).catch(() => undefined);
  }
});
