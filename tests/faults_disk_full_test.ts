/**
 * Fault: the data dir's disk fills up (issue 18 "Faults to survive"). The
 * whole cluster's data dir (embedded Postgres, the agent's kernel dirs) is a
 * small tmpfs; a filler file takes every free byte, and creates must answer
 * a clear 507 problem once the database needs space (never a 500), uploads
 * a problem naming the cause (never a 500), what is stored stays readable,
 * and service resumes once the filler is gone (a manager restart included).
 *
 * Needs root (mount); skipped with the reason otherwise.
 */
import { startCluster } from "./support/cluster.ts";
import { assert, assertEquals } from "./support/assert.ts";
import { signedFetch } from "../routes/cli/sign.ts";

const ROOT = Deno.uid() === 0;

async function sh(args: string[]): Promise<void> {
  const out = await new Deno.Command(args[0], {
    args: args.slice(1),
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`,
    );
  }
}

/** Writes zeros into `path` until the file system refuses more. */
async function fill(path: string): Promise<number> {
  const f = await Deno.open(path, { write: true, create: true });
  const chunk = new Uint8Array(1 << 20);
  let written = 0;
  try {
    for (;;) {
      try {
        written += await f.write(chunk);
      } catch {
        break; // ENOSPC
      }
    }
    // Whatever is left, byte by byte in small steps.
    for (const size of [65536, 4096, 512, 1]) {
      const small = new Uint8Array(size);
      for (;;) {
        try {
          written += await f.write(small);
        } catch {
          break;
        }
      }
    }
  } finally {
    f.close();
  }
  return written;
}

async function problemOf(res: Response): Promise<{ type?: string }> {
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    return { type: text };
  }
}

Deno.test({
  name: ROOT
    ? "fault: data dir disk full: creates answer 507, uploads no 500, nothing corrupted, service resumes"
    : "fault: data dir disk full (skipped: needs root to mount a tmpfs)",
  ignore: !ROOT,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const mnt = await Deno.makeTempDir({ prefix: "bai-full-" });
    await sh([
      "mount",
      "-t",
      "tmpfs",
      "-o",
      "size=320m,mode=755",
      "tmpfs",
      mnt,
    ]);
    try {
      // Room for every session the test leaves running (a destroy refused
      // for the full disk leaves its session queued, and it then starts).
      const c = await startCluster({
        agents: 1,
        dataDir: mnt,
        // No scratch volume: its image file lives on the same disk, and a
        // full host disk turns it into I/O errors that outlast the outage
        // (reported to the scratch-quota owner; see the issue note).
        agentArgs: () => [
          "--cpu",
          "8",
          "--mem",
          String(16 * 2 ** 30),
          "--scratch-quota",
          "0",
        ],
      });
      try {
        const created = await c.json<{ status: string }>("POST", "/session", {
          image: "python",
          name: "full-a",
        });
        assertEquals(created.status, "RUNNING");
        const upload = (name: string, file: string, text: string) => {
          const form = new FormData();
          form.append("src", new File([text], file));
          return signedFetch(
            c.endpoint,
            c.admin,
            "POST",
            `/session/${name}/upload`,
            form,
          );
        };
        assertEquals((await upload("full-a", "kept.txt", "kept")).status, 204);

        const filler = `${mnt}/filler`;
        const bytes = await fill(filler);
        console.log(
          `disk full: filler took ${(bytes / 2 ** 20).toFixed(0)} MiB`,
        );

        // Writes until the database needs space it cannot get: every answer
        // is a success or a clear 507/503, never a 500.
        const seen: Record<string, number> = {};
        let refused = 0;
        for (let i = 0; i < 60; i++) {
          const res = await c.api("POST", "/session", {
            image: "python",
            name: `full-b${i}`,
            enqueueOnly: true,
            tag: "t".repeat(4000),
          });
          const p = await problemOf(res);
          const key = `create:${res.status}${
            p.type ? ` ${p.type.split("/").at(-1)}` : ""
          }`;
          seen[key] = (seen[key] ?? 0) + 1;
          assert(
            res.status < 500 || res.status === 503 || res.status === 507,
            `create answered ${res.status}: ${JSON.stringify(p)}`,
          );
          if (res.status === 503 || res.status === 507) refused++;
          if (res.status === 201) {
            const d = await c.api("DELETE", `/session/full-b${i}`);
            const dp = await problemOf(d);
            const dk = `destroy:${d.status}`;
            seen[dk] = (seen[dk] ?? 0) + 1;
            assert(
              d.status < 500 || d.status === 503 || d.status === 507,
              `destroy answered ${d.status}: ${JSON.stringify(dp)}`,
            );
          }
        }
        const up = await upload("full-a", "big.bin", "x".repeat(1 << 16));
        const upProblem = await problemOf(up);
        seen[`upload:${up.status}`] = 1;
        console.log(
          `disk full: ${JSON.stringify(seen)} ${JSON.stringify(upProblem)}`,
        );
        // The runner's refusal names the OS error: a full disk is 507.
        assertEquals(up.status, 507, JSON.stringify(upProblem));
        assertEquals(
          upProblem.type,
          "https://api.backend.ai/probs/insufficient-storage",
        );
        assert(refused > 0, "the full disk was met by some create");
        // What is running and stored still answers.
        const info = await c.json<{ status: string }>("GET", "/session/full-a");
        assertEquals(info.status, "RUNNING");
        const q = await c.json<{ result: { console: unknown[] } }>(
          "POST",
          "/session/full-a",
          {
            mode: "query",
            code: "print(open('kept.txt').read())",
            runId: null,
          },
        );
        assertEquals(q.result.console, [["stdout", "kept\n"]]);

        // Space returns: service resumes, nothing was corrupted.
        await Deno.remove(filler);
        const again = await c.json<{ status: string }>("POST", "/session", {
          image: "python",
          name: "full-c",
        });
        assertEquals(again.status, "RUNNING");
        assertEquals((await upload("full-c", "new.txt", "new")).status, 204);
        const list = await c.json<{ total: number }>(
          "GET",
          "/x/admin/sessions?limit=100",
        );
        assert(list.total >= 2, `sessions listed: ${list.total}`);
        await c.restartManager("SIGTERM");
        const after = await c.json<{ status: string }>(
          "GET",
          "/session/full-a",
        );
        assertEquals(after.status, "RUNNING");
      } finally {
        await c.stop();
      }
    } finally {
      await sh(["umount", "-l", mnt]).catch(() => {});
      await Deno.remove(mnt, { recursive: true }).catch(() => {});
    }
  },
});
