/**
 * Virtual folders mounted into real kernel containers: a file uploaded
 * through the API is read inside a session, a file a session writes is
 * there for the next session (on another agent sharing the host, and after
 * a manager restart) and downloads byte for byte; `ro` folders are EROFS;
 * writing past a folder's quota or the work dir's scratch quota fails
 * with EDQUOT inside the kernel while the session, the manager and the
 * host's disk carry on; paths a kernel plants (symlinks out of its folder)
 * lead nowhere through the API, and a kernel sees no other folder.
 *
 * Needs root, btrfs-progs and the python image; skipped otherwise.
 */
// deno-lint-ignore-file no-explicit-any
import { quotaVolumesMissing } from "./support/quota_volumes.ts";
import { imageMissing } from "./support/images.ts";
import assert from "node:assert/strict";
import { startCluster, type TestCluster } from "./support/cluster.ts";
import { startStorageNode, type StorageProc } from "./support/storage.ts";
import { eventually } from "./support/eventually.ts";
import type { Credentials } from "../routes/cli/sign.ts";

const missing = (await quotaVolumesMissing()) ??
  (await imageMissing("python"));
if (missing) console.error(`folders_session_test: skipped: ${missing}`);

async function sha256(data: Uint8Array<ArrayBuffer>): Promise<string> {
  return Array.from(
    new Uint8Array(await crypto.subtle.digest("SHA-256", data)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
}

/** Runs `code` in the session to its end; stdout and stderr joined. */
async function run(
  c: TestCluster,
  creds: Credentials,
  session: string,
  code: string,
): Promise<string> {
  let r = await c.json<any>("POST", `/session/${session}`, {
    mode: "query",
    code,
    runId: null,
  }, creds);
  let out = "";
  for (;;) {
    for (const [kind, text] of r.result.console) {
      if (kind === "stdout" || kind === "stderr") out += text;
    }
    if (r.result.status !== "continued") break;
    r = await c.json<any>("POST", `/session/${session}`, {
      mode: "continue",
      code: "",
      runId: r.result.runId,
    }, creds);
  }
  return out;
}

async function upload(
  c: TestCluster,
  creds: Credentials,
  folder: string,
  path: string,
  data: Uint8Array<ArrayBuffer>,
): Promise<void> {
  const t = await c.json<{ token: string; url: string }>(
    "POST",
    `/folders/${folder}/request-upload`,
    { path, size: data.length },
    creds,
  );
  const r = await fetch(`${t.url}?token=${t.token}`, {
    method: "PATCH",
    headers: {
      "Tus-Resumable": "1.0.0",
      "Upload-Offset": "0",
      "Content-Type": "application/offset+octet-stream",
    },
    body: data,
  });
  assert.equal(r.status, 204, await r.text());
}

async function download(
  c: TestCluster,
  creds: Credentials,
  folder: string,
  path: string,
): Promise<Uint8Array<ArrayBuffer>> {
  const t = await c.json<{ token: string; url: string }>(
    "POST",
    `/folders/${folder}/request-download`,
    { path },
    creds,
  );
  const r = await fetch(`${t.url}?token=${t.token}`);
  assert.equal(r.status, 200);
  return new Uint8Array(await r.arrayBuffer());
}

async function session(
  c: TestCluster,
  creds: Credentials,
  name: string,
  config: Record<string, unknown>,
): Promise<Response> {
  return await c.api("POST", "/session", {
    image: "python",
    name,
    config,
  }, creds);
}

async function freeRootBytes(): Promise<number> {
  const out = await new Deno.Command("df", {
    args: ["-B1", "--output=avail", "/"],
    stdout: "piped",
  }).output();
  return Number(new TextDecoder().decode(out.stdout).trim().split("\n").pop());
}

Deno.test({
  name: "folders in sessions: mounts, persistence, quotas, confinement",
  ignore: missing !== undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const c = await startCluster({
      agents: 1,
      agentArgs: () => ["--scratch-quota", "48m"],
    });
    let storage: StorageProc | undefined;
    try {
      storage = await startStorageNode(c);
      const user = await c.newKeypair();
      const other = await c.newKeypair();
      const mk = async (
        name: string,
        body: Record<string, unknown>,
        who = user,
      ) => {
        const r = await c.api("POST", "/folders", {
          name,
          host: "local",
          ...body,
        }, who);
        assert.equal(r.status, 201, await r.text());
      };
      await mk("data", { quota: "24m" });
      await mk("refs", { permission: "ro" });
      await mk("secret", {}, other);
      await upload(
        c,
        other,
        "secret",
        "secret.txt",
        new TextEncoder().encode("other's"),
      );
      // The agent reports the host once it has seen its marker.
      await eventually("the agent to see host local", async () => {
        const list = await c.json<any[]>("GET", "/x/admin/agents");
        const items = Array.isArray(list) ? list : (list as any).agents;
        return items.every((a: any) => a.storageHosts?.includes("local"))
          ? true
          : undefined;
      }, 30_000);

      const input = new Uint8Array(300_000).map((_, i) => (i * 31 + 7) & 255);
      await upload(c, user, "data", "in/input.bin", input);

      await t.step(
        "unknown folder: 404 vfolder-not-found, no session made",
        async () => {
          const r = await session(c, user, "nofolder", { mounts: ["nope"] });
          const body = await r.json();
          assert.equal(r.status, 404);
          assert.match(body.type, /vfolder-not-found$/);
          const gone = await c.api("GET", "/session/nofolder", undefined, user);
          await gone.body?.cancel();
          assert.equal(gone.status, 404);
          // Another keypair's folder is unknown too.
          const r2 = await session(c, user, "nofolder2", {
            mounts: ["secret"],
          });
          await r2.body?.cancel();
          assert.equal(r2.status, 404);
        },
      );

      let written = "";
      await t.step(
        "read the uploaded file, write one, ro is EROFS",
        async () => {
          const r = await session(c, user, "sess1", {
            mounts: ["data", "refs"],
            mount_map: { refs: "/mnt/refs" },
          });
          assert.equal(r.status, 201, await r.text());
          const out = await run(
            c,
            user,
            "sess1",
            [
              "import hashlib, os",
              "print(hashlib.sha256(open('/home/work/data/in/input.bin','rb').read()).hexdigest())",
              "data = bytes((i * 7) % 251 for i in range(200000))",
              "open('/home/work/data/out.bin','wb').write(data)",
              "print(hashlib.sha256(data).hexdigest())",
              "try:\n  open('/mnt/refs/x', 'w')\nexcept OSError as e:\n  print('ro', e.errno)",
            ].join("\n"),
          );
          const [got, wrote, ro] = out.trim().split("\n");
          assert.equal(got, await sha256(input));
          assert.equal(ro, "ro 30", out); // EROFS
          written = wrote;
          // Downloaded byte for byte.
          assert.equal(
            await sha256(await download(c, user, "data", "out.bin")),
            written,
          );
        },
      );

      await t.step(
        "quota: EDQUOT in the kernel, the session and manager carry on",
        async () => {
          const before = await freeRootBytes();
          const out = await run(
            c,
            user,
            "sess1",
            [
              "import os",
              "def fill(path, mib):",
              "  try:",
              "    with open(path, 'wb') as f:",
              "      for _ in range(mib):",
              "        f.write(b'z' * (1 << 20))",
              "      f.flush(); os.fsync(f.fileno())",
              "    return 'ok'",
              "  except OSError as e:",
              "    return str(e.errno)",
              "print('folder', fill('/home/work/data/fill.bin', 64))",
              "print('scratch', fill('/home/work/fill.bin', 128))",
            ].join("\n"),
          );
          assert.match(out, /folder 122/, out); // EDQUOT
          assert.match(out, /scratch 122/, out);
          // The kernel still answers, the manager too.
          assert.equal(
            (await run(c, user, "sess1", "print(6*7)")).trim(),
            "42",
          );
          assert.equal(
            (await c.json<any[]>("GET", "/folders", undefined, user)).length,
            2,
          );
          // The host lost at most what the quotas allow (plus slack for others' work).
          const after = await freeRootBytes();
          assert.ok(
            before - after < (24 + 48 + 64) * 2 ** 20,
            `root disk lost ${before - after} bytes`,
          );
          // Freeing space makes room again.
          const again = await run(
            c,
            user,
            "sess1",
            "import os; os.remove('/home/work/data/fill.bin'); os.remove('/home/work/fill.bin'); open('/home/work/data/small','w').write('ok'); print('fine')",
          );
          assert.equal(again.trim(), "fine");
          // An upload past the folder's free quota is refused up front.
          const refused = await c.api("POST", "/folders/data/request-upload", {
            path: "huge.bin",
            size: 30 * 2 ** 20,
          }, user);
          await refused.body?.cancel();
          assert.equal(refused.status, 412);
        },
      );

      await t.step(
        "a policy's max_scratch_size caps the work dir below the agent's default",
        async () => {
          await c.json("PUT", "/x/admin/resource-policies/tight-scratch", {
            maxScratchSize: 16 * 2 ** 20,
          });
          const tight = await c.newKeypair({ resourcePolicy: "tight-scratch" });
          const r = await session(c, tight, "tight1", {});
          assert.equal(r.status, 201, await r.text());
          const out = await run(
            c,
            tight,
            "tight1",
            [
              "import os",
              "n = 0",
              "try:",
              "  with open('/home/work/fill.bin', 'wb') as f:",
              "    for _ in range(40):",
              "      f.write(b'z' * (1 << 20)); f.flush(); os.fsync(f.fileno()); n += 1",
              "  print('wrote', n)",
              "except OSError as e:",
              "  print('refused', e.errno, 'after', n)",
            ].join("\n"),
          );
          // 16 MiB, not the agent's 48: refused before the 17th MiB.
          const m = out.match(/refused 122 after (\d+)/);
          assert.ok(m, out);
          assert.ok(Number(m[1]) <= 16, out);
          await (await c.api("DELETE", "/session/tight1", undefined, tight))
            .body?.cancel();
        },
      );

      await t.step(
        "confinement: a kernel's symlinks lead nowhere, other folders unseen",
        async () => {
          const otherId =
            (await c.json<any[]>("GET", "/folders", undefined, other))[0].id
              .replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, "$1-$2-$3-$4-$5");
          const hostPath = `${storage!.localRoot}/${otherId}/data/secret.txt`;
          const out = await run(
            c,
            user,
            "sess1",
            [
              "import os",
              "os.symlink('/etc', '/home/work/data/etc-link')",
              `os.symlink('${
                storage!.localRoot
              }/${otherId}/data', '/home/work/data/theirs')`,
              "os.symlink('../../..', '/home/work/data/up')",
              `print(os.path.exists('${hostPath}'))`,
              "print(sorted(os.listdir('/home/work/data')))",
            ].join("\n"),
          );
          const lines = out.trim().split("\n");
          assert.equal(
            lines[0],
            "False",
            "the kernel cannot reach another folder's host path",
          );
          for (
            const [method, path] of [
              ["GET", "/folders/data/files?path=etc-link"],
              ["GET", "/folders/data/files?path=theirs"],
              ["GET", "/folders/data/files?path=up"],
            ]
          ) {
            const r = await c.api(method, path, undefined, user);
            const text = await r.text();
            assert.equal(r.status, 403, `${path}: ${text}`);
            assert.doesNotMatch(text, /secret|passwd/);
          }
          for (
            const p of ["etc-link/passwd", "theirs/secret.txt", "up/etc/passwd"]
          ) {
            const r = await c.api("POST", "/folders/data/request-download", {
              path: p,
            }, user);
            await r.body?.cancel();
            // 403 when it resolves outside the folder, 404 when it resolves to nothing.
            assert.ok(
              r.status === 403 || r.status === 404,
              `${p}: ${r.status}`,
            );
          }
          await c.json("DELETE", "/folders/data/delete-files", {
            files: ["etc-link", "theirs", "up"],
          }, user);
          assert.ok((await Deno.stat(hostPath)).isFile, "the target survived");
        },
      );

      await t.step(
        "the next session, on a second agent sharing the host, sees the file",
        async () => {
          const a1 = c.agents[0].id;
          const a2 =
            (await c.startAgent(undefined, ["--scratch-quota", "48m"])).id;
          await eventually("the second agent to see host local", async () => {
            const list = await c.json<any>("GET", "/x/admin/agents");
            const items = Array.isArray(list) ? list : list.agents;
            const b = items.find((a: any) => a.id === a2);
            return b?.storageHosts?.includes("local") ? true : undefined;
          }, 30_000);
          await c.json("POST", `/x/admin/agents/${a1}/drain`, {});
          const r = await session(c, user, "sess2", { mounts: ["data"] });
          assert.equal(r.status, 201, await r.text());
          // It runs on the second agent (the first is drained).
          await eventually(
            "the session's kernel on the second agent",
            async () => {
              const a = await c.json<any>("GET", `/x/admin/agents/${a2}`);
              return a.numKernels === 1 ? true : undefined;
            },
            15_000,
          );
          const out = await run(
            c,
            user,
            "sess2",
            "import hashlib; print(hashlib.sha256(open('/home/work/data/out.bin','rb').read()).hexdigest())",
          );
          assert.equal(out.trim(), written);
          await c.json("DELETE", "/session/sess2", undefined, user);
          await c.json("POST", `/x/admin/agents/${a1}/undrain`, {});
        },
      );

      await t.step(
        "after a manager restart the folders and their files are there",
        async () => {
          await c.json("DELETE", "/session/sess1", undefined, user);
          await c.restartManager();
          await eventually("the storage node to rejoin", async () => {
            const h = await c.json<any>(
              "GET",
              "/folders/_/hosts",
              undefined,
              user,
            );
            return h.allowed.includes("local") ? true : undefined;
          }, 60_000);
          const names =
            (await c.json<any[]>("GET", "/folders", undefined, user)).map((f) =>
              f.name
            );
          assert.deepEqual(names.sort(), ["data", "refs"]);
          await eventually("an agent to see host local again", async () => {
            const list = await c.json<any>("GET", "/x/admin/agents");
            const items = Array.isArray(list) ? list : list.agents;
            return items.some((a: any) =>
                a.status === "ALIVE" && a.storageHosts?.includes("local")
              )
              ? true
              : undefined;
          }, 60_000);
          const r = await session(c, user, "sess3", { mounts: ["data"] });
          assert.equal(r.status, 201, await r.text());
          const out = await run(
            c,
            user,
            "sess3",
            "import hashlib; print(hashlib.sha256(open('/home/work/data/out.bin','rb').read()).hexdigest())",
          );
          assert.equal(out.trim(), written);
          assert.equal(
            await sha256(await download(c, user, "data", "out.bin")),
            written,
          );
          await c.json("DELETE", "/session/sess3", undefined, user);
        },
      );
    } finally {
      await storage?.kill();
      await c.stop();
    }
  },
});
