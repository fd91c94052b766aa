/**
 * Property-based fuzzing of every API route against a real cluster (issue
 * 18 "Must show"; tests/support/fuzz.ts says what is generated and what is
 * asserted). In CI: a fixed seed (`FUZZ_SEED`, default 18) and a time bound
 * (`FUZZ_SECONDS`, default 60). `deno task fuzz` runs longer with any seed.
 */
import { fuzzCluster, MAX_SESSIONS } from "./support/fuzz_cluster.ts";
import { assert, assertEquals } from "./support/assert.ts";

const seed = Number(Deno.env.get("FUZZ_SEED") ?? 18);
const seconds = Number(Deno.env.get("FUZZ_SECONDS") ?? 60);

Deno.test({
  name:
    `fuzz: every route, hostile input: no 5xx, no hang over 5 s, no leaked slot (seed ${seed}, ${seconds} s)`,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const r = await fuzzCluster({ seconds, seed });
    console.log(
      `fuzz: ${r.runs} requests, statuses ${
        JSON.stringify(r.statuses)
      }, slowest ${r.slowestMs.toFixed(0)} ms, leak check ${
        JSON.stringify(r.leakCheck)
      }`,
    );
    if (r.failure) {
      console.log(
        `fuzz: failing request (seed ${seed}):\n${
          JSON.stringify(r.failure, (_k, v) =>
            v instanceof Uint8Array
              ? `<${v.byteLength} bytes>`
              : typeof v === "string" && v.length > 300
              ? `${v.slice(0, 300)}… (${v.length} chars)`
              : v, 2)
        }`,
      );
    }
    assert(!r.failure, "a request broke the property (printed above)");
    assert(r.runs > 50, `only ${r.runs} requests ran`);
    assertEquals(
      r.leakCheck.slice(0, MAX_SESSIONS).every((s) => s === 201),
      true,
      `the keypair starts its ${MAX_SESSIONS} sessions: ${r.leakCheck}`,
    );
    assertEquals(r.leakCheck[MAX_SESSIONS], 412, "and no more");
  },
});
