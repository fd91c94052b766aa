/**
 * Manager memory under requests signed with random (unknown) access keys:
 * a real manager process (embedded Postgres, no agent), warmed up with
 * signed requests of a real key, then rounds of 9,000 requests each with a
 * fresh random key (16 at a time). Prints the manager's RSS growth over the
 * first round and over the last one; bounded caches show a flat last round.
 * stdout: only `BENCH` lines.
 *
 * @module
 */
import { startCluster } from "../support/cluster.ts";
import { signedFetch } from "../../routes/cli/sign.ts";

const ROUNDS = Number(Deno.env.get("BENCH_ROUNDS") ?? 3);
const PER_ROUND = Number(Deno.env.get("BENCH_REQUESTS") ?? 9000);
const CONCURRENCY = 16;

const rssMiB = (pid: number) =>
  Number(
    /VmRSS:\s+(\d+)/.exec(Deno.readTextFileSync(`/proc/${pid}/status`))![1],
  ) / 1024;
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const random = (n: number) =>
  Array.from(
    crypto.getRandomValues(new Uint8Array(n)),
    (b) => ALPHABET[b % ALPHABET.length],
  ).join("");

async function load(
  endpoint: string,
  n: number,
  creds: () => { accessKey: string; secretKey: string },
): Promise<Record<number, number>> {
  const codes: Record<number, number> = {};
  let sent = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (sent < n) {
      sent++;
      const res = await signedFetch(endpoint, creds(), "GET", "/session/x");
      codes[res.status] = (codes[res.status] ?? 0) + 1;
      await res.body?.cancel();
    }
  }));
  return codes;
}

const c = await startCluster({ agents: 0 });
try {
  const pid = c.managerPid();
  const user = await c.newKeypair({ rateLimit: 1_000_000 });
  await load(c.endpoint, 3000, () => user);
  const warm = rssMiB(pid);
  const after: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const codes = await load(c.endpoint, PER_ROUND, () => ({
      accessKey: "AKIA" + random(16),
      secretKey: random(40),
    }));
    if (Object.keys(codes).some((k) => k !== "401")) {
      throw new Error(`unexpected answers: ${JSON.stringify(codes)}`);
    }
    after.push(rssMiB(pid));
    console.error(
      `unknown_keys: round ${r + 1}: rss ${after.at(-1)!.toFixed(1)} MiB`,
    );
  }
  console.log(`BENCH manager.rss_warm_mib ${warm.toFixed(1)}`);
  console.log(
    `BENCH manager.unknown_keys_9k_first_round_growth_mib ${
      (after[0] - warm).toFixed(1)
    }`,
  );
  console.log(
    `BENCH manager.unknown_keys_9k_last_round_growth_mib ${
      (after.at(-1)! - (after.at(-2) ?? warm)).toFixed(1)
    }`,
  );
} finally {
  await c.stop();
}
