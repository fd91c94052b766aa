import { assertEquals, assertThrows } from "../tests/support/assert.ts";
import { parseBinarySize, parseCreateSession, parseExecute } from "./params.ts";
import { InvalidApiParams } from "./problems.ts";

Deno.test("parseBinarySize reads Backend.AI size strings", () => {
  assertEquals(parseBinarySize("512m"), 512 * 2 ** 20);
  assertEquals(parseBinarySize("1g"), 2 ** 30);
  assertEquals(parseBinarySize("1GiB"), 2 ** 30);
  assertEquals(parseBinarySize("1.5k"), 1536);
  assertEquals(parseBinarySize(4096), 4096);
  assertEquals(parseBinarySize("lots"), undefined);
  assertEquals(parseBinarySize(-1), undefined);
});

Deno.test("parseCreateSession accepts both naming generations and fills defaults", () => {
  const old = parseCreateSession({
    lang: "python",
    clientSessionToken: "sess-1",
    sessionType: "batch",
    startupCommand: "python x.py",
    config: {
      resources: { cpu: "2", mem: "1g" },
      scaling_group: "gpu",
      mount_map: { d: "/home/work/d" },
    },
    bootstrap_script: btoa("echo hi"),
    owner_access_key: "AKOTHER",
  });
  const cur = parseCreateSession({
    image: "python",
    name: "sess-1",
    type: "batch",
    startupCommand: "python x.py",
    config: {
      resources: { cpu: 2, mem: 2 ** 30 },
      scalingGroup: "gpu",
      mountMap: { d: "/home/work/d" },
    },
    bootstrapScript: btoa("echo hi"),
    ownerAccessKey: "AKOTHER",
  });
  assertEquals(old, cur);
  assertEquals(cur.request.config.resources, { cpu: 2, mem: 2 ** 30 });
  assertEquals(cur.request.bootstrapScript, "echo hi");
  assertEquals(cur.request.reuseIfExists, true);
  assertEquals(cur.request.enqueueOnly, false);
  const q = parseCreateSession({
    image: "py",
    name: "abcd",
    enqueueOnly: "true",
    maxWaitSeconds: "30",
  });
  assertEquals([
    q.request.enqueueOnly,
    q.request.maxWaitSeconds,
    q.request.type,
  ], [true, 30, "interactive"]);
  assertThrows(
    () =>
      parseCreateSession({ image: "py", name: "abcd", bootstrapScript: "%%%" }),
    InvalidApiParams,
  );
  assertThrows(
    () => parseCreateSession({ image: "py", name: "a".repeat(65) }),
    InvalidApiParams,
  );
});

Deno.test("parseExecute: runId must be present; continue/input need one", () => {
  assertEquals(parseExecute({ mode: "query", code: "1", runId: null }), {
    mode: "query",
    code: "1",
    runId: null,
    options: {},
  });
  assertThrows(
    () => parseExecute({ mode: "query", code: "1" }),
    InvalidApiParams,
  );
  assertThrows(
    () => parseExecute({ mode: "continue", code: "", runId: null }),
    InvalidApiParams,
  );
  assertThrows(
    () => parseExecute({ mode: "bogus", code: "", runId: "r" }),
    InvalidApiParams,
  );
});

Deno.test("parseCreateSession carries config.scale_in_protected in both spellings", () => {
  const snake = parseCreateSession({
    image: "py",
    name: "prot",
    config: { scale_in_protected: true },
  });
  assertEquals(snake.request.config.scaleInProtected, true);
  const camel = parseCreateSession({
    image: "py",
    name: "prot",
    config: { scaleInProtected: "false" },
  });
  assertEquals(camel.request.config.scaleInProtected, false);
  const absent = parseCreateSession({ image: "py", name: "prot" });
  assertEquals(absent.request.config.scaleInProtected, undefined);
  assertThrows(
    () =>
      parseCreateSession({
        image: "py",
        name: "prot",
        config: { scale_in_protected: "maybe" },
      }),
    InvalidApiParams,
  );
});
