/**
 * Virtual folders through the real clients' calls, against a real manager
 * and a real storage node (btrfs quota volume on a loop device):
 * the JS client 21.3.1's vfolder methods, tus-js-client 4.3 for a chunked
 * upload that is cut off and resumed, token downloads byte for byte,
 * quotas refusing uploads before their data is kept, hostile paths on
 * every file route, tokens confined to their folder, the admin listing.
 *
 * Needs root and btrfs-progs (quota volumes); without them it is skipped
 * with the reason.
 */
// deno-lint-ignore-file no-explicit-any
import { quotaVolumesMissing } from "./support/quota_volumes.ts";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
// Test-only dependency (the shared deno.json stays lean), as bai_client.ts does.
// deno-lint-ignore no-import-prefix
import * as tus from "npm:tus-js-client@4.3.1";
import { startCluster, type TestCluster } from "./support/cluster.ts";
import { startStorageNode, type StorageProc } from "./support/storage.ts";
import {
  type BaiClient,
  createBaiClient,
  isBaiClientError,
} from "./support/bai_client.ts";
import type { Credentials } from "../routes/cli/sign.ts";

const missing = (await quotaVolumesMissing()) ??
  undefined;
if (missing) console.error(`folders_api_test: skipped: ${missing}`);

/** Deterministic bytes (crypto.getRandomValues caps at 64 KiB). */
function bytes(n: number, seed = 1): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

async function js(c: TestCluster, creds: Credentials): Promise<BaiClient> {
  const client = createBaiClient({
    endpoint: c.endpoint,
    ...creds,
    requestTimeoutMs: 30_000,
  });
  await client.get_manager_version();
  return client;
}

async function status(p: Promise<Response>): Promise<number> {
  const r = await p;
  await r.body?.cancel();
  return r.status;
}

Deno.test({
  name: "folders: JS client, tus resume, downloads, quotas, hostile paths",
  ignore: missing !== undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const c = await startCluster({ agents: 0 });
    let storage: StorageProc | undefined;
    try {
      storage = await startStorageNode(c);
      const user = await c.newKeypair();
      const other = await c.newKeypair();
      const client = await js(c, user);
      const vf = client.raw.vfolder;

      await t.step("JS client: hosts, create, list, info, mkdir", async () => {
        const hosts = await vf.list_hosts();
        assert.equal(hosts.default, "local");
        assert.deepEqual(hosts.allowed, ["local"]);
        const made = await vf.create("data", "local");
        assert.equal(made.name, "data");
        assert.equal(made.host, "local");
        assert.match(made.id, /^[0-9a-f]{32}$/);
        const list = await vf.list();
        assert.deepEqual(list.map((f: any) => f.name), ["data"]);
        assert.equal(list[0].permission, "rw");
        const info = await vf.info("data");
        assert.equal(info.id, made.id);
        await vf.mkdir("in/deep", "data", true);
        // Same name again: 400 vfolder-already-exists.
        await assert.rejects(vf.create("data", "local"), (e: any) => {
          assert.ok(isBaiClientError(e));
          assert.equal(e.statusCode, 400);
          return true;
        });
        const again = await c.api("POST", "/folders", {
          name: "data",
          host: "local",
        }, user);
        assert.match(
          (await again.json()).type,
          /\/vfolder-already-exists$/,
        );
        // Names are per keypair: another keypair may use it.
        const o = await js(c, other);
        assert.equal(
          (await o.raw.vfolder.create("data", "local")).name,
          "data",
        );
        for (const bad of ["../x", ".ssh", ".bashrc", "a b", "x".repeat(65)]) {
          await assert.rejects(vf.create(bad, "local"), (e: any) => {
            assert.equal(e.statusCode, 400, bad);
            return true;
          });
        }
      });

      const payload = bytes(3 * 1024 * 1024 + 123, 7);
      await t.step(
        "tus-js-client: a chunked upload cut off, then resumed from its offset",
        async () => {
          const url: string = await vf.create_upload_session(
            "in/deep/blob.bin",
            { size: payload.length },
            "data",
          );
          let chunks = 0;
          const first = await new Promise<{ offset: number }>(
            (resolve, reject) => {
              const up = new tus.Upload(Buffer.from(payload) as any, {
                endpoint: url,
                uploadUrl: url,
                chunkSize: 1024 * 1024,
                retryDelays: [],
                onChunkComplete: (_n: number, sent: number) => {
                  if (++chunks === 2) {
                    // The user closes the tab: abort mid-way.
                    up.abort().then(() => resolve({ offset: sent }));
                  }
                },
                onError: reject,
                onSuccess: () => reject(new Error("should not finish")),
              });
              up.start();
            },
          );
          assert.equal(first.offset, 2 * 1024 * 1024);
          // The server kept what it got: HEAD answers the offset.
          const head = await fetch(url, {
            method: "HEAD",
            headers: { "Tus-Resumable": "1.0.0" },
          });
          assert.equal(head.status, 200);
          assert.equal(head.headers.get("upload-offset"), String(first.offset));
          // Nothing is visible in the folder yet.
          const mid = await vf.list_files("in/deep", "data");
          assert.equal(JSON.parse(mid.files).length, 0);
          // A new upload object resumes from there (HEAD, then PATCH the rest).
          const patched: number[] = [];
          await new Promise<void>((resolve, reject) => {
            const up = new tus.Upload(Buffer.from(payload) as any, {
              endpoint: url,
              uploadUrl: url,
              chunkSize: 1024 * 1024,
              retryDelays: [0, 200],
              onChunkComplete: (_n: number, sent: number) => patched.push(sent),
              onError: reject,
              onSuccess: () => resolve(),
            });
            up.start();
          });
          assert.equal(patched[0], 3 * 1024 * 1024, "resumed at 2 MiB");
          const listed = JSON.parse(
            (await vf.list_files("in/deep", "data")).files,
          );
          assert.deepEqual(
            listed.map((f: any) => [f.filename, f.size]),
            [["blob.bin", payload.length]],
          );
        },
      );

      await t.step("download by token, byte for byte, and ranges", async () => {
        const res: Response = await vf.download("in/deep/blob.bin", "data");
        assert.equal(res.status, 200);
        assert.equal(res.headers.get("content-length"), String(payload.length));
        assert.deepEqual(new Uint8Array(await res.arrayBuffer()), payload);
        const tk = await vf.request_download_token("in/deep/blob.bin", "data");
        const part = await fetch(`${tk.url}?token=${tk.token}`, {
          headers: { Range: "bytes=10-19" },
        });
        assert.equal(part.status, 206);
        assert.deepEqual(
          new Uint8Array(await part.arrayBuffer()),
          payload.slice(10, 20),
        );
        // A forged or tampered token opens nothing.
        const forged = tk.token.slice(0, -2) +
          (tk.token.endsWith("A") ? "BB" : "AA");
        assert.equal(await status(fetch(`${tk.url}?token=${forged}`)), 403);
        assert.equal(await status(fetch(`${tk.url}?token=`)), 403);
        // An upload token is no download token and vice versa.
        const upTk = await c.json<{ token: string; url: string }>(
          "POST",
          "/folders/data/request-upload",
          { path: "x.bin", size: 3 },
          user,
        );
        assert.equal(await status(fetch(`${tk.url}?token=${upTk.token}`)), 403);
        assert.equal(
          await status(fetch(`${upTk.url}?token=${tk.token}`, {
            method: "PATCH",
            headers: {
              "Tus-Resumable": "1.0.0",
              "Upload-Offset": "0",
              "Content-Type": "application/offset+octet-stream",
            },
            body: "abc",
          })),
          403,
        );
      });

      await t.step(
        "rename, move, delete files; rename and delete the folder",
        async () => {
          await vf.rename_file("in/deep/blob.bin", "b2.bin", "data");
          await c.json("POST", "/folders/data/move-file", {
            src: "in/deep/b2.bin",
            dst: "in",
          }, user);
          const files = JSON.parse((await vf.list_files("in", "data")).files);
          assert.deepEqual(files.map((f: any) => f.filename).sort(), [
            "b2.bin",
            "deep",
          ]);
          // A non-empty dir needs recursive.
          assert.equal(
            await status(c.api("DELETE", "/folders/data/delete-files", {
              files: ["in"],
            }, user)),
            400,
          );
          await vf.delete_files(["in"], true, "data");
          assert.equal(
            JSON.parse((await vf.list_files(".", "data")).files).length,
            0,
          );
          vf.name = "data";
          await vf.rename("data2");
          assert.deepEqual((await vf.list()).map((f: any) => f.name), [
            "data2",
          ]);
        },
      );

      await t.step(
        "quota: an upload past it is refused before its data is kept",
        async () => {
          const r = await c.api("POST", "/folders", {
            name: "small",
            host: "local",
            quota: "1m",
          }, user);
          assert.equal(r.status, 201, await r.text());
          const refused = await c.api("POST", "/folders/small/request-upload", {
            path: "big.bin",
            size: 2 * 1024 * 1024,
          }, user);
          assert.equal(refused.status, 412, await refused.text());
          // Nothing was staged: the whole quota is still free.
          const ok = await c.json<{ token: string; url: string }>(
            "POST",
            "/folders/small/request-upload",
            { path: "fits.bin", size: 700 * 1024 },
            user,
          );
          // While that upload is pending its bytes are reserved.
          assert.equal(
            await status(c.api("POST", "/folders/small/request-upload", {
              path: "second.bin",
              size: 700 * 1024,
            }, user)),
            412,
          );
          const done = await fetch(`${ok.url}?token=${ok.token}`, {
            method: "PATCH",
            headers: {
              "Tus-Resumable": "1.0.0",
              "Upload-Offset": "0",
              "Content-Type": "application/offset+octet-stream",
            },
            body: bytes(700 * 1024),
          });
          assert.equal(done.status, 204, await done.text());
          // The policy's max_vfolder_size caps quotas; max_vfolder_count caps folders.
          await c.json("PUT", "/x/admin/resource-policies/tight", {
            maxVfolderCount: 1,
            maxVfolderSize: 1024 * 1024,
          });
          const tight = await c.newKeypair({ resourcePolicy: "tight" });
          assert.equal(
            await status(c.api("POST", "/folders", {
              name: "huge",
              host: "local",
              quota: "10m",
            }, tight)),
            412,
          );
          assert.equal(
            await status(
              c.api("POST", "/folders", { name: "one", host: "local" }, tight),
            ),
            201,
          );
          assert.equal(
            await status(
              c.api("POST", "/folders", { name: "two", host: "local" }, tight),
            ),
            412,
          );
          const one =
            (await c.json<any[]>("GET", "/folders", undefined, tight))[0];
          assert.equal(
            one.quota,
            1024 * 1024,
            "no quota asked: the policy's max",
          );
        },
      );

      await t.step(
        "hostile paths: 4xx on every file route, nothing leaks",
        async () => {
          const hostile = [
            "../../../../etc/passwd",
            "/etc/passwd",
            "a/../../x",
            "..",
            "x\u0000y",
          ];
          const routes: [
            string,
            string,
            (p: string) => Record<string, unknown>,
          ][] = [
            ["GET", "/folders/data2/files", (p) => ({ path: p })],
            ["POST", "/folders/data2/mkdir", (p) => ({ path: p })],
            [
              "POST",
              "/folders/data2/request-upload",
              (p) => ({ path: p, size: 1 }),
            ],
            ["POST", "/folders/data2/request-download", (p) => ({ path: p })],
            [
              "POST",
              "/folders/data2/rename-file",
              (p) => ({ target_path: p, new_name: "z" }),
            ],
            [
              "POST",
              "/folders/data2/rename_file",
              (p) => ({ target_path: "ok", new_name: p }),
            ],
            [
              "POST",
              "/folders/data2/move-file",
              (p) => ({ src: p, dst: "ok" }),
            ],
            [
              "POST",
              "/folders/data2/move-file",
              (p) => ({ src: "ok", dst: p }),
            ],
            ["DELETE", "/folders/data2/delete-files", (p) => ({ files: [p] })],
            [
              "DELETE",
              "/folders/data2/delete_files",
              (p) => ({ files: ["ok", p] }),
            ],
          ];
          await c.json("POST", "/folders/data2/mkdir", { path: "ok" }, user);
          // GET parameters travel in the query (fetch sends no GET body).
          const call = (
            method: string,
            path: string,
            body: Record<string, unknown>,
          ) =>
            method === "GET"
              ? c.api(
                method,
                `${path}?${new URLSearchParams(
                  body as Record<string, string>,
                )}`,
                undefined,
                user,
              )
              : c.api(method, path, body, user);
          for (const [method, path, body] of routes) {
            for (const p of hostile) {
              const r = await call(method, path, body(p));
              const text = await r.text();
              assert.ok(
                r.status >= 400 && r.status < 500,
                `${method} ${path} ${JSON.stringify(p)} → ${r.status} ${text}`,
              );
              assert.doesNotMatch(text, /root:x:0:0/);
            }
          }
          // "ok" survived the delete-files that named it with a hostile path.
          const names = JSON.parse(
            (await c.json<any>(
              "GET",
              "/folders/data2/files?path=.",
              undefined,
              user,
            )).files,
          ).map((f: any) => f.filename);
          assert.ok(names.includes("ok"));
          // A symlink planted in the folder (as a kernel could) leads nowhere.
          const folderId =
            (await c.json<any>("GET", "/folders/data2", undefined, user)).id;
          const uuid = folderId.replace(
            /^(.{8})(.{4})(.{4})(.{4})(.{12})$/,
            "$1-$2-$3-$4-$5",
          );
          const data = `${storage!.localRoot}/${uuid}/data`;
          await Deno.symlink("/etc", `${data}/etc-link`);
          await Deno.symlink("/etc/passwd", `${data}/passwd-link`);
          const otherId =
            (await c.json<any[]>("GET", "/folders", undefined, other))[0].id
              .replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, "$1-$2-$3-$4-$5");
          await Deno.symlink(
            `${storage!.localRoot}/${otherId}/data`,
            `${data}/neighbour`,
          );
          for (
            const [method, path, body] of [
              ["GET", "/folders/data2/files", { path: "etc-link" }],
              ["GET", "/folders/data2/files", { path: "neighbour" }],
              ["POST", "/folders/data2/request-download", {
                path: "passwd-link",
              }],
              ["POST", "/folders/data2/request-download", {
                path: "etc-link/passwd",
              }],
              ["POST", "/folders/data2/request-upload", {
                path: "etc-link/evil",
                size: 1,
              }],
              ["POST", "/folders/data2/request-upload", {
                path: "passwd-link",
                size: 1,
              }],
              ["POST", "/folders/data2/mkdir", { path: "etc-link/evil" }],
              ["POST", "/folders/data2/move-file", {
                src: "ok",
                dst: "neighbour/stolen",
              }],
            ] as const
          ) {
            const r = await call(method, path, body);
            const text = await r.text();
            assert.equal(
              r.status,
              403,
              `${path} ${JSON.stringify(body)} → ${r.status} ${text}`,
            );
          }
          // Deleting the link removes the link, never its target.
          await c.json("DELETE", "/folders/data2/delete-files", {
            files: ["passwd-link"],
          }, user)
            .catch(() => undefined);
          assert.ok((await Deno.stat("/etc/passwd")).isFile);
          // Another keypair's folder name reaches only its own folder.
          assert.equal(
            await status(c.api("GET", "/folders/data2", undefined, other)),
            404,
          );
        },
      );

      await t.step(
        "multipart upload through the manager (JS client upload)",
        async () => {
          const blob = new Blob([bytes(5000, 3)]);
          await client.raw.vfolder.upload("multi/part.bin", blob, "data2");
          const files = JSON.parse(
            (await vf.list_files("multi", "data2")).files,
          );
          assert.deepEqual(files.map((f: any) => [f.filename, f.size]), [[
            "part.bin",
            5000,
          ]]);
        },
      );

      await t.step("admin listing across keypairs, with usage", async () => {
        const r = await c.json<{ folders: any[]; total: number }>(
          "GET",
          "/x/admin/folders?limit=100",
        );
        const mine = r.folders.filter((f) => f.access_key === user.accessKey);
        assert.deepEqual(mine.map((f) => f.name).sort(), ["data2", "small"]);
        assert.ok(r.folders.some((f) => f.access_key === other.accessKey));
        const small = mine.find((f) => f.name === "small")!;
        assert.ok(small.used_bytes >= 700 * 1024, JSON.stringify(small));
        assert.equal(small.quota, 1024 * 1024);
        assert.equal(
          await status(c.api("GET", "/x/admin/folders", undefined, user)),
          403,
        );
        const byKey = await c.json<{ total: number }>(
          "GET",
          `/x/admin/folders?accessKey=${other.accessKey}`,
        );
        assert.equal(byKey.total, 1);
      });

      await t.step("delete: the folder and its bytes go", async () => {
        const info = await c.json<any>(
          "GET",
          "/folders/small",
          undefined,
          user,
        );
        const uuid = info.id.replace(
          /^(.{8})(.{4})(.{4})(.{4})(.{12})$/,
          "$1-$2-$3-$4-$5",
        );
        assert.ok(
          (await Deno.stat(`${storage!.localRoot}/${uuid}`)).isDirectory,
        );
        assert.equal(
          await status(c.api("DELETE", "/folders/small", undefined, user)),
          204,
        );
        await assert.rejects(Deno.stat(`${storage!.localRoot}/${uuid}`));
        assert.equal(
          await status(c.api("GET", "/folders/small", undefined, user)),
          404,
        );
        assert.equal(
          await status(c.api("DELETE", "/folders/small", undefined, user)),
          404,
        );
      });
    } finally {
      await storage?.kill();
      await c.stop();
    }
  },
});
