/**
 * README.md's Cookbook, run: every ```sh block of that section is played
 * against a real cluster (tests/support/cluster.ts) in a directory whose
 * `var/` is the cluster's data dir, the way a user runs the recipes next
 * to `deno task start`, so a recipe that no longer does what it shows
 * fails here.
 *
 * Transcript format: `$ CMD` is a command (`> ` lines continue it), the
 * lines under it what it prints, stdout and stderr together; a `...` line
 * stands for any lines, `...` inside a line for any text. A command ending
 * in `&` runs in the background for the rest of the block, and the command
 * after it is retried (up to 90 s) until its output matches (the
 * background process is starting). `deno task X` runs as `deno run -A
 * main.ts X` (no `Task ...` line), the README's port 8081 is the test
 * cluster's, and agent ids get a per-run suffix so parallel runs on one
 * host never share containers.
 *
 * @module
 */

import { assert, assertEquals } from "./support/assert.ts";
import { removeContainersOf, startCluster } from "./support/cluster.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const MAIN = `${ROOT}main.ts`;

/** One command of a recipe and what it shows. */
export interface Step {
  command: string;
  expected: string[];
  background: boolean;
}

/** The ```sh blocks of the README section `## heading`, as steps. */
export function cookbookBlocks(readme: string, heading = "Cookbook"): Step[][] {
  const start = readme.indexOf(`\n## ${heading}\n`);
  assert(start >= 0, `README.md has no "## ${heading}" section`);
  const rest = readme.slice(start + 1);
  const end = rest.indexOf("\n## ", 1);
  const section = end < 0 ? rest : rest.slice(0, end);
  const blocks: Step[][] = [];
  for (const m of section.matchAll(/```sh\n([\s\S]*?)```/g)) {
    const steps: Step[] = [];
    for (const line of m[1].replace(/\n$/, "").split("\n")) {
      const last = steps.at(-1);
      if (line.startsWith("$ ")) {
        steps.push({ command: line.slice(2), expected: [], background: false });
      } else if (line.startsWith("> ") && last && last.expected.length === 0) {
        last.command += "\n" + line.slice(2);
      } else {
        assert(last, `output before any command: ${line}`);
        last.expected.push(line);
      }
    }
    for (const s of steps) {
      s.background = /\s&$/.test(s.command);
      if (s.background) s.command = s.command.replace(/\s*&$/, "");
    }
    blocks.push(steps);
  }
  return blocks;
}

function lineRegex(pattern: string): RegExp {
  const parts = pattern.split("...").map((p) =>
    p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
  );
  return new RegExp(`^${parts.join(".*")}$`);
}

/**
 * Whether output lines match the expected ones (`...` lines and `...`
 * inside lines as the module doc says).
 */
export function matches(actual: string[], expected: string[]): boolean {
  const go = (a: number, e: number): boolean => {
    if (e === expected.length) return a === actual.length;
    if (expected[e] === "...") {
      for (let k = a; k <= actual.length; k++) if (go(k, e + 1)) return true;
      return false;
    }
    return a < actual.length && lineRegex(expected[e]).test(actual[a]) &&
      go(a + 1, e + 1);
  };
  return go(0, 0);
}

Deno.test("cookbook transcript parsing and matching", () => {
  const blocks = cookbookBlocks(
    "x\n## Cookbook\n\n```sh\n$ echo a\na\n$ cat <<'E'\n> b\n> E\nb\n$ sleep 9 &\n```\n\n## Next\n```sh\n$ no\n```\n",
  );
  assertEquals(blocks, [[
    { command: "echo a", expected: ["a"], background: false },
    { command: "cat <<'E'\nb\nE", expected: ["b"], background: false },
    { command: "sleep 9", expected: [], background: true },
  ]]);
  assert(matches(["id 123", "x", "y", "end"], ["id ...", "...", "end"]));
  assert(matches([], ["..."]));
  assert(!matches(["a", "b"], ["a"]));
  assert(!matches(["a.c"], ["a.b"]));
});

interface Background {
  proc: Deno.ChildProcess;
  command: string;
}

Deno.test({
  name: "README cookbook: every recipe prints what it shows",
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  const blocks = cookbookBlocks(readme);
  assert(blocks.length > 0, "the cookbook has no sh blocks");
  const work = await Deno.makeTempDir({ prefix: "bai-cookbook-" });
  const dataDir = `${work}/var`;
  await Deno.mkdir(dataDir);
  const c = await startCluster({
    agents: 1,
    dataDir,
    // A fixed size, so recipes that ask for slots fit on any machine.
    agentArgs: () => ["--cpu", "4", "--mem", String(8 * 2 ** 30)],
  });
  // What a manager that generated its keys saves (this one was given them).
  await Deno.writeTextFile(`${dataDir}/admin.keypair`, JSON.stringify(c.admin));
  await Deno.writeTextFile(`${dataDir}/cluster.secret`, c.clusterSecret + "\n");
  const suffix = crypto.randomUUID().slice(0, 6);
  const ids = [
    ...new Set(
      blocks.flat().flatMap((s) =>
        [...s.command.matchAll(/--id ([\w-]+)/g)].map((m) => m[1])
      ),
    ),
  ];
  const withIds = (text: string) =>
    ids.reduce(
      (t, id) => t.replace(new RegExp(`\\b${id}\\b`, "g"), `${id}-${suffix}`),
      text,
    );
  const localize = (text: string) =>
    withIds(text).replaceAll("127.0.0.1:8081", `127.0.0.1:${c.port}`)
      .replaceAll("deno task ", `deno run -A ${MAIN} `);
  const env = {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: Deno.env.get("HOME") ?? "/root",
    NO_COLOR: "1",
  };
  const background: Background[] = [];
  const trace = Deno.env.get("COOKBOOK_TRACE") === "1";
  try {
    for (const [b, steps] of blocks.entries()) {
      let retry = false;
      for (const step of steps) {
        const command = localize(step.command);
        if (step.background) {
          const log = `${work}/background-${background.length}.log`;
          background.push({
            command: step.command,
            // Its own process group, so the whole command can be ended.
            proc: new Deno.Command("setsid", {
              args: ["bash", "-c", `${command} >${log} 2>&1`],
              cwd: work,
              env,
              clearEnv: true,
              stdin: "null",
            }).spawn(),
          });
          retry = true;
          continue;
        }
        const expected = step.expected.map(withIds);
        const deadline = Date.now() + (retry ? 90_000 : 0);
        let lines: string[];
        for (;;) {
          if (trace) console.error(`cookbook $ ${command}`);
          // A recipe that hangs fails with what it printed, not the suite.
          const out = await new Deno.Command("timeout", {
            args: ["-k", "5", "180", "bash", "-c", `exec 2>&1\n${command}`],
            cwd: work,
            env,
            clearEnv: true,
            stdin: "null",
            stdout: "piped",
          }).output();
          const text = new TextDecoder().decode(out.stdout).replace(/\n+$/, "");
          lines = text === "" ? [] : text.split("\n");
          if (matches(lines, expected) || Date.now() > deadline) break;
          await new Promise((r) => setTimeout(r, 1000));
        }
        retry = false;
        if (!matches(lines, expected)) {
          let logs = "";
          for (const [i, bg] of background.entries()) {
            const log = await Deno.readTextFile(
              `${work}/background-${i}.log`,
            ).catch(() => "");
            logs += `\n--- background $ ${bg.command}\n${log}`;
          }
          throw new Error(
            `cookbook block ${b + 1}, $ ${step.command}\n--- shows\n${
              expected.join("\n")
            }\n--- printed\n${lines.join("\n")}${logs}`,
          );
        }
      }
    }
  } finally {
    for (const bg of background) {
      // setsid made the command's pid its process group id.
      await new Deno.Command("kill", {
        args: ["-KILL", "--", `-${bg.proc.pid}`],
        stderr: "null",
      }).output();
      await bg.proc.status;
    }
    await removeContainersOf(ids.map((id) => `${id}-${suffix}`));
    await c.stop();
    await Deno.remove(work, { recursive: true }).catch(() => undefined);
  }
});
