/**
 * `deno task bench`: runs every benchmark script in this folder, one process
 * each (so one bench's heap or sockets cannot skew the next), and passes on
 * the `BENCH <name> <value>` lines they print. A script that fails is
 * reported on stderr and the run goes on; the exit code says whether any did.
 *
 * Usage: `deno task bench [NAME...]` where NAME filters scripts by file name.
 *
 * @module
 */

const here = new URL(".", import.meta.url);
const only = Deno.args;
const scripts: string[] = [];
for await (const entry of Deno.readDir(here)) {
  if (!entry.isFile || !entry.name.endsWith(".ts") || entry.name === "run.ts") {
    continue;
  }
  if (entry.name.startsWith("_")) continue;
  if (only.length && !only.some((o) => entry.name.includes(o))) continue;
  scripts.push(entry.name);
}
scripts.sort();

let failed = 0;
for (const name of scripts) {
  const t0 = performance.now();
  console.error(`bench: ${name} ...`);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(name, here).pathname],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const { code, stdout } = await child.output();
  for (const line of new TextDecoder().decode(stdout).split("\n")) {
    if (line.startsWith("BENCH ")) console.log(line);
  }
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  if (code !== 0) {
    failed++;
    console.error(`bench: ${name} FAILED (exit ${code}, ${secs} s)`);
  } else {
    console.error(`bench: ${name} done in ${secs} s`);
  }
}
if (failed) Deno.exit(1);
