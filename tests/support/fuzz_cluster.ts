/**
 * The fuzz run against a real cluster (a manager with embedded Postgres and
 * one agent), shared by the CI test (tests/fuzz_test.ts: fixed seed, ~60 s)
 * and `deno task fuzz` (tests/fuzz_run.ts: longer, any seed): a user keypair
 * on a policy of 3 concurrent sessions, one live session to aim at, the
 * property run, then the leak check: with its sessions ended, the keypair
 * must still start exactly its 3 (a slot held by a refused request would
 * make one of them fail).
 *
 * @module
 */
import { startCluster } from "./cluster.ts";
import { type FuzzFinding, type FuzzRequest, runFuzz } from "./fuzz.ts";

/** What a run saw. */
export interface FuzzReport {
  seed: number;
  runs: number;
  statuses: Record<string, number>;
  slowestMs: number;
  failure?: FuzzFinding;
  /** Statuses of the leak check's creates (3 × 201/200 and then a 412 when no slot leaked). */
  leakCheck: number[];
}

export const MAX_SESSIONS = 3;

/** `FUZZ_TRACE=1` prints every request and its answer. */
const trace = Deno.env.get("FUZZ_TRACE") === "1";

function describeBody(body: FuzzRequest["body"]): string {
  if (!body) return "none";
  if ("raw" in body) return `<${body.raw.byteLength} raw bytes>`;
  const text = JSON.stringify(body.json) ?? "undefined";
  return text.length > 160 ? `${text.slice(0, 160)}… (${text.length})` : text;
}

/** Runs the fuzz for `seconds` with `seed`. */
export async function fuzzCluster(
  options: { seconds: number; seed: number; log?: (line: string) => void },
): Promise<FuzzReport> {
  const c = await startCluster({
    agents: 1,
    agentArgs: () => ["--cpu", "8", "--mem", String(16 * 2 ** 30)],
  });
  try {
    await c.json("PUT", "/x/admin/resource-policies/fuzz", {
      maxConcurrentSessions: MAX_SESSIONS,
    });
    const user = await c.newKeypair({
      resourcePolicy: "fuzz",
      rateLimit: 10_000_000,
    });
    // An admin of its own, with room for the run's admin requests.
    const admin = await c.json<{ accessKey: string; secretKey: string }>(
      "POST",
      "/x/admin/keypairs",
      { isAdmin: true, rateLimit: 10_000_000 },
    );
    await c.json("POST", "/session", {
      image: "python",
      name: "fz-live",
    }, user);
    const statuses: Record<string, number> = {};
    let slowest = 0;
    let last = Date.now();
    const { runs, failure } = await runFuzz(c.endpoint, {
      user,
      admin,
    }, {
      seed: options.seed,
      timeLimitMs: options.seconds * 1000,
      onAnswer(f) {
        if (trace) {
          console.error(
            `fuzz: ${f.request.method} ${f.request.target.slice(0, 120)} ${
              JSON.stringify(f.request.headers)
            } body ${describeBody(f.request.body)} → ${f.status} (${
              f.ms.toFixed(0)
            } ms) ${f.body.slice(0, 120)}`,
          );
        }
        statuses[String(f.status)] = (statuses[String(f.status)] ?? 0) + 1;
        slowest = Math.max(slowest, f.ms);
        if (options.log && Date.now() - last > 10_000) {
          last = Date.now();
          options.log(`fuzz: ${JSON.stringify(statuses)}`);
        }
      },
    });

    // Leak check: end every live session of the keypair, then start its max.
    const live = await c.json<{ sessions: { name: string }[] }>(
      "GET",
      `/x/admin/sessions?accessKey=${user.accessKey}&status=PENDING,SCHEDULED,PREPARING,RUNNING,RESTARTING&limit=1000`,
      undefined,
      admin,
    );
    for (const s of live.sessions) {
      const res = await c.api("DELETE", `/session/${s.name}`, undefined, user);
      await res.body?.cancel();
    }
    const leakCheck: number[] = [];
    for (let i = 0; i <= MAX_SESSIONS; i++) {
      const res = await c.api("POST", "/session", {
        image: "python",
        name: `leak-${i}`,
        enqueueOnly: true,
      }, user);
      leakCheck.push(res.status);
      await res.body?.cancel();
    }
    return {
      seed: options.seed,
      runs,
      statuses,
      slowestMs: slowest,
      failure,
      leakCheck,
    };
  } finally {
    await c.stop();
  }
}
