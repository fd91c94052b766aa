/**
 * What an agent tells its operator at start, against a real manager: a
 * wrong cluster secret and an unreachable manager are one clear line each
 * (no stack), a restart says how many kernels it re-adopted, and the
 * registry shows the agent's own address, not the manager's URL.
 *
 * @module
 */

import { assert, assertEquals, assertMatch } from "./support/assert.ts";
import { startCluster } from "./support/cluster.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

function agent(
  args: string[],
  secret: string,
): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "agent", "--pool", "0", ...args],
    env: { CLUSTER_SECRET: secret, NO_COLOR: "1" },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
}

/** Reads `proc`'s stderr until a line matches (or `ms` pass); answers all lines read. */
async function readUntil(
  proc: Deno.ChildProcess,
  re: RegExp,
  ms: number,
): Promise<string[]> {
  const lines: string[] = [];
  const reader = proc.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  const deadline = Date.now() + ms;
  try {
    while (Date.now() < deadline) {
      const next = await Promise.race([
        reader.read(),
        new Promise<null>((r) =>
          setTimeout(() => r(null), deadline - Date.now())
        ),
      ]);
      if (next === null || next.done) break;
      buf += next.value;
      const parts = buf.split("\n");
      buf = parts.pop() ?? "";
      lines.push(...parts);
      if (parts.some((l) => re.test(l))) break;
    }
  } finally {
    reader.releaseLock();
  }
  return lines;
}

async function removeContainersOf(id: string): Promise<void> {
  const out = await new Deno.Command("docker", {
    args: ["ps", "-aq", "--filter", `label=ai.backend.agent-id=${id}`],
    stdout: "piped",
    stderr: "null",
  }).output();
  const ids = new TextDecoder().decode(out.stdout).split("\n").filter(Boolean);
  if (ids.length) {
    await new Deno.Command("docker", { args: ["rm", "-f", ...ids] }).output();
  }
}

Deno.test({
  name:
    "agent start-up: a wrong secret and an unreachable manager are one line; a restart counts its re-adopted kernels; addr is the agent's",
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  const c = await startCluster({ agents: 1 });
  const suffix = crypto.randomUUID().slice(0, 6);
  const own = `startup-${suffix}`;
  try {
    await t.step("a wrong cluster secret: one line, exit 1", async () => {
      const p = agent([
        "--manager",
        `ws://127.0.0.1:${c.port}`,
        "--id",
        `wrong-${suffix}`,
        "--data-dir",
        `${c.dataDir}/wrong-${suffix}`,
      ], "not-the-secret");
      const out = await p.output();
      const err = new TextDecoder().decode(out.stderr).trimEnd().split("\n");
      assertEquals(out.code, 1);
      assertEquals(err.length, 1, err.join("\n"));
      assertMatch(err[0], /refused it: wrong cluster secret/);
    });

    await t.step(
      "an unreachable manager: one line with the cause, and it keeps trying",
      async () => {
        const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
        const port = (l.addr as Deno.NetAddr).port;
        l.close();
        const p = agent([
          "--manager",
          `ws://127.0.0.1:${port}`,
          "--id",
          `away-${suffix}`,
          "--data-dir",
          `${c.dataDir}/away-${suffix}`,
        ], c.clusterSecret);
        const lines = await readUntil(p, /cannot reach/, 30_000);
        // Still running (retrying) after saying so.
        p.kill("SIGKILL");
        const status = await p.status;
        assertEquals(status.signal, "SIGKILL");
        const said = lines.filter((x) => x.trim() !== "");
        assertEquals(said.length, 1, said.join("\n"));
        assertMatch(
          said[0],
          new RegExp(
            `cannot reach the manager at ws://127\\.0\\.0\\.1:${port}/x/cluster: connection refused`,
          ),
        );
      },
    );

    await t.step("addr is the agent's own address", async () => {
      const { agents } = await c.json<
        { agents: { id: string; addr: string }[] }
      >(
        "GET",
        "/x/admin/agents",
      );
      const a = agents.find((x) => x.id === c.agents[0].id);
      assertEquals(a?.addr, "127.0.0.1");
    });

    await t.step(
      "a restarted agent says how many kernels it re-adopted",
      async () => {
        const args = [
          "--manager",
          `ws://127.0.0.1:${c.port}`,
          "--id",
          own,
          "--data-dir",
          `${c.dataDir}/${own}`,
          "--scaling-group",
          "default",
        ];
        let p = agent(args, c.clusterSecret);
        await c.waitAgent(own);
        // Only this agent may take the session: drain the fixture's.
        await c.json("POST", `/x/admin/agents/${c.agents[0].id}/drain`);
        await c.json("POST", "/session", { image: "python", name: "adopt-me" });
        await c.json("POST", "/session/adopt-me", {
          mode: "query",
          code: "kept = 42",
          runId: null,
        });
        p.kill("SIGKILL");
        await p.status;
        await p.stderr.cancel();
        p = agent(args, c.clusterSecret);
        const lines = await readUntil(p, /re-adopted/, 60_000);
        assert(
          lines.some((l) => /re-adopted 1 running kernel\b/.test(l)),
          lines.join("\n"),
        );
        const res = await c.json<{ result: { console: unknown[] } }>(
          "POST",
          "/session/adopt-me",
          { mode: "query", code: "print(kept)", runId: null },
        );
        assertEquals(res.result.console, [["stdout", "42\n"]]);
        p.kill("SIGKILL");
        await p.status;
        await p.stderr.cancel().catch(() => undefined);
      },
    );
  } finally {
    await c.stop();
    await removeContainersOf(own);
  }
});
