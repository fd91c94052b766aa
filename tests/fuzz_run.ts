/**
 * `deno task fuzz [SECONDS] [SEED]`: the API fuzz of tests/fuzz_test.ts for
 * longer (default 600 s) and with a fresh seed (printed, so a failure can be
 * replayed: `deno task fuzz 600 SEED`, or `FUZZ_SEED=SEED deno test -A
 * tests/fuzz_test.ts`). Exits 1 on a violation or a leaked slot.
 *
 * @module
 */
import { fuzzCluster, MAX_SESSIONS } from "./support/fuzz_cluster.ts";

const seconds = Number(Deno.args[0] ?? 600);
const seed = Number(Deno.args[1] ?? Math.floor(Math.random() * 2 ** 31));
console.log(`fuzz: seed ${seed}, ${seconds} s`);
const r = await fuzzCluster({ seconds, seed, log: (l) => console.log(l) });
console.log(
  `fuzz: ${r.runs} requests, statuses ${JSON.stringify(r.statuses)}, slowest ${
    r.slowestMs.toFixed(0)
  } ms, leak check ${JSON.stringify(r.leakCheck)}`,
);
const leaked = !r.leakCheck.slice(0, MAX_SESSIONS).every((s) => s === 201) ||
  r.leakCheck[MAX_SESSIONS] !== 412;
if (r.failure) {
  console.log(`fuzz: FAILED (seed ${seed}):`);
  console.log(
    JSON.stringify(
      r.failure,
      (_k, v) => v instanceof Uint8Array ? `<${v.byteLength} bytes>` : v,
      2,
    ),
  );
}
if (leaked) console.log("fuzz: FAILED: a slot leaked");
Deno.exit(r.failure || leaked ? 1 : 0);
