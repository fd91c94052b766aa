/**
 * `deno task soak [MINUTES]`: mixed traffic against a real cluster for a
 * long time (default 30 minutes; not in CI), sampling the manager's and the
 * agent's memory (RSS) and file descriptors and the agent's containers every
 * minute (`SOAK_SAMPLE_S` changes the interval), then printing a table and
 * whether each figure stayed flat.
 *
 * Traffic, all at once: a lifecycle loop (create, query, stream over a
 * WebSocket, upload, download, destroy), queries on a long-lived session,
 * read-only calls (session info, admin lists), and bad input (requests from
 * the fuzz generator, tests/support/fuzz.ts). Any 5xx (other than the
 * documented instance-not-available) is counted and printed.
 *
 * "Flat": the lower envelope of RSS (the lowest sample of the last third,
 * against the lowest after warm-up; RSS itself follows the collector's
 * sawtooth) rises less than 20 MiB or 10 %, and descriptors and containers
 * peak no higher in the second half than in the first plus a small margin.
 *
 * @module
 */
import fc from "fast-check";
import { startCluster, type TestCluster } from "./support/cluster.ts";
import { openStream, streamStdout } from "./api_helpers_test.ts";
import { requestArbitrary, send, violates } from "./support/fuzz.ts";
import type { Credentials } from "../routes/cli/sign.ts";

const minutes = Number(Deno.args[0] ?? Deno.env.get("SOAK_MINUTES") ?? 30);
const sampleS = Number(Deno.env.get("SOAK_SAMPLE_S") ?? 60);

interface Sample {
  t: number;
  managerRss: number;
  /** V8 heap in use (`deno_heap_used_bytes` from the manager's /metrics), MiB. */
  managerHeap: number;
  managerFds: number;
  agentRss: number;
  agentFds: number;
  containers: number;
  requests: number;
  errors: number;
}

const rssMiB = (pid: number) =>
  Number(
    /VmRSS:\s+(\d+)/.exec(Deno.readTextFileSync(`/proc/${pid}/status`))![1],
  ) / 1024;
const fds = (pid: number) => [...Deno.readDirSync(`/proc/${pid}/fd`)].length;

async function containers(agentId: string): Promise<number> {
  const out = await new Deno.Command("docker", {
    args: ["ps", "-q", "--filter", `label=ai.backend.agent-id=${agentId}`],
    stdout: "piped",
  }).output();
  return new TextDecoder().decode(out.stdout).split("\n").filter(Boolean)
    .length;
}

let requests = 0;
let errors = 0;
const errorSamples: string[] = [];

async function call(
  c: TestCluster,
  method: string,
  path: string,
  body: unknown,
  creds: Credentials,
): Promise<Response | undefined> {
  requests++;
  try {
    const res = await c.api(method, path, body, creds);
    if (res.status >= 500) {
      const text = await res.clone().text();
      if (!(res.status === 503 && text.includes("instance-not-available"))) {
        errors++;
        if (errorSamples.length < 20) {
          errorSamples.push(`${method} ${path} → ${res.status} ${text}`);
        }
      }
    }
    return res;
  } catch (e) {
    errors++;
    if (errorSamples.length < 20) {
      errorSamples.push(`${method} ${path} → ${e}`);
    }
    return undefined;
  }
}

async function lifecycle(
  c: TestCluster,
  creds: Credentials,
  worker: string,
  stop: () => boolean,
) {
  for (let i = 0; !stop(); i++) {
    const name = `soak-${worker}-${i}`;
    const created = await call(c, "POST", "/session", {
      image: "python",
      name,
      maxWaitSeconds: 30,
      config: { resources: { cpu: 1, mem: "256m" } },
    }, creds);
    await created?.body?.cancel();
    if (!created || created.status >= 300) {
      await new Promise((r) => setTimeout(r, 1000));
      continue;
    }
    const q = await call(c, "POST", `/session/${name}`, {
      mode: "query",
      code: `x = ${i}\nprint(x * 2)`,
      runId: null,
    }, creds);
    await q?.body?.cancel();
    try {
      requests++;
      // Bounded: a socket that neither opens nor fails must not stall the run.
      const s = await Promise.race([
        openStream(c, `/stream/session/${name}/execute`, creds),
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error("no upgrade in 10 s")), 10_000)
        ),
      ]);
      s.ws.send(JSON.stringify({ mode: "query", code: "print(x + 1)" }));
      await Promise.race([
        s.closed,
        new Promise((r) => setTimeout(r, 10_000)),
      ]);
      if (!streamStdout(s.frames).includes(String(i + 1))) {
        errors++;
        errorSamples.length < 20 &&
          errorSamples.push(`stream ${name}: ${JSON.stringify(s.frames)}`);
      }
      s.ws.close();
    } catch (e) {
      errors++;
      errorSamples.length < 20 && errorSamples.push(`stream ${name}: ${e}`);
    }
    const form = new FormData();
    form.append("src", new File(["soak ".repeat(2000)], "soak.txt"));
    const up = await call(c, "POST", `/session/${name}/upload`, form, creds);
    await up?.body?.cancel();
    const down = await call(
      c,
      "GET",
      `/session/${name}/download_single?file=soak.txt`,
      undefined,
      creds,
    );
    await down?.body?.cancel();
    const del = await call(c, "DELETE", `/session/${name}`, undefined, creds);
    await del?.body?.cancel();
  }
}

async function queries(
  c: TestCluster,
  creds: Credentials,
  stop: () => boolean,
) {
  for (let i = 0; !stop(); i++) {
    const res = await call(c, "POST", "/session/soak-live", {
      mode: "query",
      code: `n = ${i}`,
      runId: null,
    }, creds);
    await res?.body?.cancel();
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function reads(
  c: TestCluster,
  creds: Credentials,
  admin: Credentials,
  stop: () => boolean,
) {
  while (!stop()) {
    for (
      const [path, who] of [
        ["/session/soak-live", creds],
        ["/x/admin/agents", admin],
        ["/x/admin/sessions?limit=50", admin],
        ["/config/resource-slots", creds],
      ] as const
    ) {
      const res = await call(c, "GET", path, undefined, who);
      await res?.body?.cancel();
    }
    await new Promise((r) => setTimeout(r, 300));
  }
}

async function badInput(
  c: TestCluster,
  creds: { user: Credentials; admin: Credentials },
  stop: () => boolean,
) {
  let seed = 1;
  while (!stop()) {
    for (
      const req of fc.sample(requestArbitrary(), { numRuns: 50, seed: seed++ })
    ) {
      if (stop()) return;
      requests++;
      const f = await send(c.endpoint, req, creds);
      if (violates(f)) {
        errors++;
        errorSamples.length < 20 &&
          errorSamples.push(
            `bad input ${req.method} ${req.target.slice(0, 80)} → ${f.status} ${
              f.body.slice(0, 200)
            }`,
          );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** The manager's V8 heap in use, from its Prometheus endpoint (NaN if absent). */
async function heapMiB(endpoint: string, token: string): Promise<number> {
  try {
    const res = await fetch(`${endpoint}/metrics`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    const m = /^deno_heap_used_bytes(?:\{[^}]*\})? ([0-9.e+]+)$/m.exec(
      await res.text(),
    );
    return m ? Number(m[1]) / 2 ** 20 : NaN;
  } catch {
    return NaN;
  }
}

/** Least-squares slope of `ys` over `ts` (per second). */
function slope(ts: number[], ys: number[]): number {
  const n = ts.length;
  if (n < 2) return 0;
  const mt = ts.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (ts[i] - mt) * (ys[i] - my);
    den += (ts[i] - mt) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

console.log(`soak: ${minutes} min, a sample every ${sampleS} s`);
const metricsToken = crypto.randomUUID();
const c = await startCluster({
  agents: 1,
  poolSize: 1,
  managerEnv: { METRICS_TOKEN: metricsToken },
  agentArgs: () => ["--cpu", "8", "--mem", String(16 * 2 ** 30)],
});
const samples: Sample[] = [];
try {
  await c.json("PUT", "/x/admin/resource-policies/soak", {
    maxConcurrentSessions: 20,
  });
  const user = await c.newKeypair({
    resourcePolicy: "soak",
    rateLimit: 100_000_000,
  });
  const admin = await c.json<Credentials>("POST", "/x/admin/keypairs", {
    isAdmin: true,
    rateLimit: 100_000_000,
  });
  await c.json(
    "POST",
    "/session",
    { image: "python", name: "soak-live" },
    user,
  );
  const agent = c.agents[0];
  const t0 = Date.now();
  const end = t0 + minutes * 60_000;
  const stop = () => Date.now() > end;
  const take = async () => {
    const s: Sample = {
      t: (Date.now() - t0) / 1000,
      managerRss: rssMiB(c.managerPid()),
      managerHeap: await heapMiB(c.endpoint, metricsToken),
      managerFds: fds(c.managerPid()),
      agentRss: rssMiB(agent.proc.pid),
      agentFds: fds(agent.proc.pid),
      containers: await containers(agent.id),
      requests,
      errors,
    };
    samples.push(s);
    console.log(
      `soak: t=${s.t.toFixed(0)}s manager ${
        s.managerRss.toFixed(1)
      } MiB (heap ${s.managerHeap.toFixed(1)}) ${s.managerFds} fds, agent ${
        s.agentRss.toFixed(1)
      } MiB ${s.agentFds} fds, ${s.containers} containers, ${s.requests} requests, ${s.errors} errors`,
    );
  };
  await take();
  const sampler = setInterval(() => void take(), sampleS * 1000);
  await Promise.all([
    lifecycle(c, user, "a", stop),
    lifecycle(c, user, "b", stop),
    queries(c, user, stop),
    reads(c, user, admin, stop),
    badInput(c, { user, admin }, stop),
  ]);
  clearInterval(sampler);
  await take();
} finally {
  await c.stop();
}

// The table and the verdict.
const pad = (v: string, n: number) => v.padStart(n);
console.log(
  "\n| min | manager MiB | manager heap | manager fds | agent MiB | agent fds | containers | requests | errors |",
);
console.log(
  "| --: | ----------: | -----------: | ----------: | --------: | --------: | ---------: | -------: | -----: |",
);
for (const s of samples) {
  console.log(
    `| ${pad((s.t / 60).toFixed(1), 3)} | ${
      pad(s.managerRss.toFixed(1), 11)
    } | ${pad(s.managerHeap.toFixed(1), 12)} | ${
      pad(String(s.managerFds), 11)
    } | ${pad(s.agentRss.toFixed(1), 9)} | ${pad(String(s.agentFds), 9)} | ${
      pad(String(s.containers), 10)
    } | ${pad(String(s.requests), 8)} | ${pad(String(s.errors), 6)} |`,
  );
}
// RSS follows the collector's sawtooth (the heap grows until a major GC
// gives it back), so memory is judged by its lower envelope: the lowest
// sample of the last third against the lowest after warm-up (the first
// two samples) in the first half. A leak raises the floor; garbage does not.
const n = samples.length;
const warm = samples.slice(Math.min(2, n - 1), Math.max(3, Math.floor(n / 2)));
const last = samples.slice(Math.floor((2 * n) / 3));
const firstHalf = samples.slice(0, Math.max(1, Math.floor(n / 2)));
const secondHalf = samples.slice(Math.floor(n / 2));
type Mem = "managerRss" | "managerHeap" | "agentRss";
const floor = (xs: Sample[], key: Mem) => Math.min(...xs.map((s) => s[key]));
const peak = (xs: Sample[], key: keyof Sample) =>
  Math.max(...xs.map((s) => s[key]));
const memVerdict = (key: Mem) => {
  const before = floor(warm, key);
  const after = floor(last, key);
  return [
    after - before,
    after <= before + Math.max(20, before * 0.1),
  ] as const;
};
const [managerGrowth, managerFlat] = memVerdict("managerRss");
const [heapGrowth, heapFlat] = memVerdict("managerHeap");
const [agentGrowth, agentFlat] = memVerdict("agentRss");
const verdicts = [
  ["manager RSS floor", managerGrowth, managerFlat, "MiB since warm-up"],
  ["manager heap floor", heapGrowth, heapFlat, "MiB since warm-up"],
  ["agent RSS floor", agentGrowth, agentFlat, "MiB since warm-up"],
  [
    "manager fds",
    peak(secondHalf, "managerFds"),
    peak(secondHalf, "managerFds") <= peak(firstHalf, "managerFds") + 20,
    "peak in the second half",
  ],
  [
    "agent fds",
    peak(secondHalf, "agentFds"),
    peak(secondHalf, "agentFds") <= peak(firstHalf, "agentFds") + 20,
    "peak in the second half",
  ],
  [
    "containers",
    peak(secondHalf, "containers"),
    peak(secondHalf, "containers") <= peak(firstHalf, "containers") + 3,
    "peak in the second half",
  ],
] as const;
console.log(
  `soak: manager RSS slope over the run ${
    (slope(samples.map((s) => s.t), samples.map((s) => s.managerRss)) * 3600)
      .toFixed(0)
  } MiB/h (sawtooth included)`,
);
console.log("");
for (const [what, value, ok, unit] of verdicts) {
  console.log(
    `soak: ${what}: ${(value as number).toFixed(1)} ${unit}: ${
      ok ? "flat" : "GROWING"
    }`,
  );
}
console.log(`soak: ${requests} requests, ${errors} errors`);
for (const e of errorSamples) console.log(`soak: error: ${e}`);
Deno.exit(errors > 0 || verdicts.some(([, , ok]) => !ok) ? 1 : 0);
