import { assertEquals, assertThrows } from "../tests/support/assert.ts";
import { parseCreateSession, parseExecute } from "./params.ts";
import { InvalidApiParams } from "./problems.ts";

Deno.test("size slots read Backend.AI size strings (policies/slots.ts parseBinarySize)", () => {
  const mem = (v: string | number) =>
    parseCreateSession({
      image: "py",
      name: "abcd",
      config: { resources: { mem: v } },
    })
      .request.config.resources?.mem;
  assertEquals(mem("512m"), 512 * 2 ** 20);
  assertEquals(mem("1g"), 2 ** 30);
  assertEquals(mem("1GiB"), 2 ** 30);
  assertEquals(mem("1.5k"), 1536);
  assertEquals(mem(4096), 4096);
  assertEquals(mem("0.3k"), 307); // fractions of a byte round down
  for (const bad of ["lots", -1, "1x"]) {
    assertThrows(() => mem(bad), InvalidApiParams);
  }
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

Deno.test("parseCreateSession: every optional field may be null (the Python SDK's defaults)", () => {
  // The body `ComputeSession.get_or_create("python")` of SDK 22.03.2 sends.
  const { request, ownerAccessKey } = parseCreateSession({
    tag: null,
    name: "pysdk-0123456789",
    config: {
      mounts: [],
      environ: null,
      resources: {},
      resource_opts: {},
      scalingGroup: null,
      mount_map: {},
      preopen_ports: null,
    },
    dependencies: null,
    callback_url: null,
    clusterSize: 1,
    clusterMode: "single-node",
    starts_at: null,
    bootstrap_script: null,
    owner_access_key: null,
    domain: "default",
    group: "default",
    type: "interactive",
    enqueueOnly: false,
    maxWaitSeconds: 0,
    reuseIfExists: true,
    startupCommand: null,
    image: "python",
  });
  assertEquals(ownerAccessKey, undefined);
  assertEquals(request.tag, undefined);
  assertEquals(request.startupCommand, undefined);
  assertEquals(request.bootstrapScript, undefined);
  assertEquals(request.config.scalingGroup, undefined);
  assertEquals(request.config.environ, {});
  assertEquals(request.config.preopenPorts, []);
});

Deno.test("parseCreateSession: ports may be numeric strings (`--preopen 8080`)", () => {
  const { request } = parseCreateSession({
    image: "python",
    name: "ports",
    config: { preopen_ports: ["8080", 8081] },
  });
  assertEquals(request.config.preopenPorts, [8080, 8081]);
  assertThrows(
    () =>
      parseCreateSession({
        image: "python",
        name: "ports",
        config: { preopen_ports: ["http"] },
      }),
    InvalidApiParams,
  );
});

Deno.test("parseExecute: a null runId is kept (the server makes one); null options are absent", () => {
  const p = parseExecute({
    mode: "batch",
    code: "",
    runId: null,
    options: { clean: null, build: "*", buildLog: false, exec: null },
  });
  assertEquals(p.runId, null);
  assertEquals(p.options, { build: "*", buildLog: false });
});

Deno.test("a top-level resources is refused with where it goes; null is absent", () => {
  let refused: unknown;
  try {
    parseCreateSession({
      image: "python",
      name: "abcd",
      resources: { cpu: 2 },
    });
  } catch (e) {
    refused = e;
  }
  assertEquals(refused instanceof InvalidApiParams, true);
  assertEquals((refused as InvalidApiParams).msg?.includes("config"), true);
  const ok = parseCreateSession({
    image: "python",
    name: "abcd",
    resources: null,
  });
  assertEquals(ok.request.config.resources, {});
});
