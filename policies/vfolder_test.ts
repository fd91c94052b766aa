import assert from "node:assert/strict";
import {
  agentSeesHosts,
  fileNameProblem,
  folderNameProblem,
  folderPathSegments,
  mountTarget,
} from "./vfolder.ts";

Deno.test("folder names follow Backend.AI's rules", () => {
  for (const ok of ["data", "my-data_1", ".local", "a.b", "x".repeat(64)]) {
    assert.equal(folderNameProblem(ok), undefined, ok);
  }
  for (
    const bad of [
      "",
      ".",
      "..",
      "a/b",
      "../x",
      "a b",
      "x".repeat(65),
      ".ssh",
      ".bashrc",
      ".zsh_profile",
      ".jupyter",
      "na\0me",
    ]
  ) {
    assert.notEqual(folderNameProblem(bad), undefined, JSON.stringify(bad));
  }
});

Deno.test("paths inside a folder: relative, no .., no NUL", () => {
  assert.deepEqual(folderPathSegments(""), []);
  assert.deepEqual(folderPathSegments("."), []);
  assert.deepEqual(folderPathSegments("a//b/./c/"), ["a", "b", "c"]);
  for (
    const bad of [
      "/etc/passwd",
      "..",
      "a/../../b",
      "a/..",
      "x\0y",
      "a".repeat(256),
      "b/".repeat(2100),
    ]
  ) {
    assert.ok(!Array.isArray(folderPathSegments(bad)), bad.slice(0, 20));
  }
  assert.equal(fileNameProblem("new.txt"), undefined);
  assert.notEqual(fileNameProblem("a/b"), undefined);
  assert.notEqual(fileNameProblem(".."), undefined);
  assert.notEqual(fileNameProblem(""), undefined);
});

Deno.test("mount targets default to /home/work/NAME and stay clean", () => {
  assert.equal(mountTarget("d", {}), "/home/work/d");
  assert.equal(mountTarget("d", { d: "/data/set" }), "/data/set");
  assert.equal(mountTarget("d", { d: "sub/dir" }), "/home/work/sub/dir");
  for (
    const bad of [
      "/",
      "/home/work",
      "/a/../etc",
      "/x:y",
      "a,b",
      "/etc",
      "/usr/x",
    ]
  ) {
    assert.ok(typeof mountTarget("d", { d: bad }) !== "string", bad);
  }
});

Deno.test("agentSeesHosts: every required host must be visible", () => {
  assert.ok(agentSeesHosts([], []));
  assert.ok(agentSeesHosts(["a", "b"], ["b", "a"]));
  assert.ok(!agentSeesHosts(["a"], ["a", "b"]));
  assert.ok(!agentSeesHosts(undefined, ["a"]));
});
