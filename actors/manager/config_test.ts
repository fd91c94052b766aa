import assert from "node:assert/strict";
import { isAbsolute, join } from "node:path";
import { parseManagerConfig } from "./config.ts";
import { parseAgentConfig } from "../agent/node.ts";

Deno.test("data dirs are made absolute (kernel dirs are bind-mounted)", () => {
  const m = parseManagerConfig([], {});
  assert.equal(m.dataDir, join(Deno.cwd(), "var"));
  const a = parseAgentConfig(["--manager", "ws://127.0.0.1:8081"], {
    DATA_DIR: "rel/agent",
    CLUSTER_SECRET: "s3cret",
  });
  assert.ok(isAbsolute(a.dataDir));
  assert.equal(a.dataDir, join(Deno.cwd(), "rel/agent"));
  assert.equal(
    parseManagerConfig(["--data-dir", "/srv/bai"], {}).dataDir,
    "/srv/bai",
  );
});

Deno.test("agents reuse pool containers unless --no-recycle or POOL_RECYCLE=0", () => {
  const base = ["--manager", "ws://127.0.0.1:8081"];
  const env = { CLUSTER_SECRET: "s3cret" };
  assert.equal(parseAgentConfig(base, env).poolRecycle, true);
  assert.equal(
    parseAgentConfig([...base, "--no-recycle"], env).poolRecycle,
    false,
  );
  assert.equal(
    parseAgentConfig(base, { ...env, POOL_RECYCLE: "0" }).poolRecycle,
    false,
  );
});
