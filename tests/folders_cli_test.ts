/**
 * Virtual folders through Backend.AI's real Python CLI 22.03.2 (unchanged,
 * `../shared/clients/`): `vfolder list-hosts / create / info / mkdir /
 * upload` (aiotusclient's tus PATCHes) / `ls / download / rm / rename /
 * delete`, `vfolder list` (GraphQL), and `run -m FOLDER` reading an
 * uploaded file inside the session. The CLI prints ✘ and still exits 0 on
 * many failures, so each command is judged by its output.
 *
 * Needs root, btrfs-progs, the python image and the client's Debian
 * packages; skipped with the reason otherwise.
 */
import { quotaVolumesMissing } from "./support/quota_volumes.ts";
import { imageMissing } from "./support/images.ts";
import assert from "node:assert/strict";
import { startCluster } from "./support/cluster.ts";
import { startStorageNode, type StorageProc } from "./support/storage.ts";
import { pythonClient } from "./support/python_client.ts";

const py = await pythonClient();
const missing = typeof py === "string" ? py : (await quotaVolumesMissing()) ??
  (await imageMissing("python"));
if (missing) console.error(`folders_cli_test: skipped: ${missing}`);

Deno.test({
  name: "folders: the Python CLI's vfolder commands and run -m",
  ignore: missing !== undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    if (typeof py === "string") return;
    const c = await startCluster({ agents: 1 });
    let storage: StorageProc | undefined;
    const work = await Deno.makeTempDir({ prefix: "bai-cli-vf-" });
    try {
      storage = await startStorageNode(c);
      const user = await c.newKeypair();
      const cli = (
        args: string[],
        opts: { cwd?: string; stdin?: string } = {},
      ) => py.cli(user, c.endpoint, args, { cwd: work, ...opts });
      const content = "line one\n" + "x".repeat(100_000) + "\nlast line\n";
      await Deno.writeTextFile(`${work}/notes.txt`, content);

      await t.step("list-hosts, create, info, mkdir", async () => {
        let r = await cli(["vfolder", "list-hosts"]);
        assert.match(r.output, /Default vfolder host: local/, r.output);
        r = await cli(["vfolder", "create", "pydata", "local", "-q", "50m"]);
        assert.match(r.output, /Virtual folder "pydata" is created/, r.output);
        r = await cli(["vfolder", "info", "pydata"]);
        assert.match(
          r.output,
          /Virtual folder "pydata" \(ID: [0-9a-f]{32}\)/,
          r.output,
        );
        assert.match(r.output, /Permission: rw/);
        r = await cli(["vfolder", "mkdir", "pydata", "sub"]);
        assert.match(r.output, /Done/, r.output);
        r = await cli(["vfolder", "create", "pydata", "local"]);
        assert.match(r.output, /✘|already exists/i, r.output);
      });

      await t.step(
        "upload (tus via aiotusclient), ls, download byte for byte",
        async () => {
          let r = await cli(["vfolder", "upload", "pydata", "notes.txt"]);
          assert.match(r.output, /Done/, r.output);
          assert.doesNotMatch(r.output, /✘|Error/, r.output);
          r = await cli(["vfolder", "ls", "pydata"]);
          assert.match(r.output, /notes\.txt\s+\d+/, r.output);
          assert.match(r.output, /sub/);
          const down = await Deno.makeTempDir({ dir: work });
          r = await cli(["vfolder", "download", "pydata", "notes.txt"], {
            cwd: down,
          });
          assert.match(r.output, /Done/, r.output);
          assert.equal(await Deno.readTextFile(`${down}/notes.txt`), content);
        },
      );

      await t.step("vfolder list (GraphQL vfolder_list)", async () => {
        const r = await cli(["vfolder", "list"]);
        assert.doesNotMatch(r.output, /✘|Traceback/, r.output);
        assert.match(r.output, /pydata/, r.output);
      });

      await t.step("run -m: the uploaded file inside a session", async () => {
        const r = await cli([
          "run",
          "--rm",
          "-m",
          "pydata",
          "python",
          "-c",
          "print(open('/home/work/pydata/notes.txt').read().splitlines()[-1]); open('/home/work/pydata/sub/from-run.txt','w').write('hi')",
        ]);
        assert.match(r.output, /last line/, r.output);
        const ls = await cli(["vfolder", "ls", "pydata", "sub"]);
        assert.match(ls.output, /from-run\.txt/, ls.output);
      });

      await t.step("rm, rename, delete", async () => {
        let r = await cli(["vfolder", "rm", "pydata", "notes.txt"], {
          stdin: "y\n",
        });
        assert.match(r.output, /Done/, r.output);
        r = await cli(["vfolder", "ls", "pydata"]);
        assert.doesNotMatch(r.output, /notes\.txt/, r.output);
        r = await cli(["vfolder", "rename", "pydata", "pydata2"]);
        assert.match(r.output, /Renamed/, r.output);
        r = await cli(["vfolder", "delete", "pydata2"]);
        assert.match(r.output, /Deleted/, r.output);
        r = await cli(["vfolder", "info", "pydata2"]);
        assert.match(r.output, /✘|not found|No such/i, r.output);
      });
    } finally {
      await storage?.kill();
      await c.stop();
      await Deno.remove(work, { recursive: true }).catch(() => undefined);
    }
  },
});
