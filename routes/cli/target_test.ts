import { assertEquals } from "../../tests/support/assert.ts";
import { CliError } from "./errors.ts";
import { resolveTarget, type TargetInput } from "./target.ts";

/** The CliError `fn` rejects with (fails when it resolves or throws another). */
async function rejects(fn: () => Promise<unknown>): Promise<CliError> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof CliError) return e;
    throw e;
  }
  throw new Error("expected a CliError");
}

const ADMIN = { accessKey: "AKIAADMIN", secretKey: "adminsecret" };

function input(
  over: Partial<TargetInput> = {},
  files: Record<string, string> = {},
): TargetInput {
  return {
    env: {},
    readText: (p) => Promise.resolve(files[p]),
    ...over,
  };
}

const local = {
  "./var/endpoint": "http://127.0.0.1:41234\n",
  "./var/admin.keypair": JSON.stringify(ADMIN),
};

Deno.test("target: the local cluster's endpoint and admin keypair from ./var", async () => {
  const t = await resolveTarget(input({}, local));
  assertEquals(t.endpoint, "http://127.0.0.1:41234");
  assertEquals(t.endpointFrom, "./var/endpoint");
  assertEquals(t.creds, ADMIN);
  assertEquals(t.credsFrom, "./var/admin.keypair");
});

Deno.test("target: DATA_DIR moves where the local files are read", async () => {
  const t = await resolveTarget(input({ env: { DATA_DIR: "/srv/b" } }, {
    "/srv/b/endpoint": "http://127.0.0.1:9999",
    "/srv/b/admin.keypair": JSON.stringify(ADMIN),
  }));
  assertEquals([t.endpoint, t.credsFrom], [
    "http://127.0.0.1:9999",
    "/srv/b/admin.keypair",
  ]);
});

Deno.test("target: flags win over BACKEND_* which win over the data dir", async () => {
  const env = {
    BACKEND_ENDPOINT: "http://10.0.0.5:8081/",
    BACKEND_ACCESS_KEY: "AKIAENV",
    BACKEND_SECRET_KEY: "envsecret",
  };
  const fromEnv = await resolveTarget(input({ env }, local));
  assertEquals(fromEnv.endpoint, "http://10.0.0.5:8081");
  assertEquals(fromEnv.creds, { accessKey: "AKIAENV", secretKey: "envsecret" });
  const fromFlags = await resolveTarget(input({
    env,
    endpoint: "https://bai.example.com",
    accessKey: "AKIAFLAG",
    secretKey: "flagsecret",
  }, local));
  assertEquals(fromFlags.endpoint, "https://bai.example.com");
  assertEquals(fromFlags.credsFrom, "--access-key");
  const fromFile = await resolveTarget(
    input({ env, keypairFile: "u.keypair" }, {
      ...local,
      "u.keypair": JSON.stringify({
        accessKey: "AKIAU",
        secretKey: "us",
        x: 1,
      }),
    }),
  );
  assertEquals(fromFile.creds, { accessKey: "AKIAU", secretKey: "us" });
});

Deno.test("target: PORT, then 8081, when no endpoint file exists", async () => {
  const withPort = await resolveTarget(input({ env: { PORT: "8090" } }, {
    "./var/admin.keypair": JSON.stringify(ADMIN),
  }));
  assertEquals(withPort.endpoint, "http://127.0.0.1:8090");
  const bare = await resolveTarget(input({}, {
    "./var/admin.keypair": JSON.stringify(ADMIN),
  }));
  assertEquals(bare.endpoint, "http://127.0.0.1:8081");
});

Deno.test("target: a half-set keypair is refused, never completed with the admin's", async () => {
  for (
    const over of [
      { env: { BACKEND_ACCESS_KEY: "AKIAUSER" } },
      { env: { BACKEND_SECRET_KEY: "s" } },
      { accessKey: "AKIAUSER" },
      {
        secretKey: "s",
        env: { BACKEND_ACCESS_KEY: "A", BACKEND_SECRET_KEY: "S" },
      },
    ]
  ) {
    const e = await rejects(() => resolveTarget(input(over, local)));
    assertEquals(e.exitCode, 2);
    assertEquals(/is set but .* is not/.test(e.message), true, e.message);
  }
});

Deno.test("target: no keypair anywhere, a bad key file, a bad URL: clear errors", async () => {
  const none = await rejects(() => resolveTarget(input()));
  assertEquals(none.message.includes("BACKEND_ACCESS_KEY"), true);
  const bad = await rejects(() =>
    resolveTarget(input({}, { "./var/admin.keypair": "{}" }))
  );
  assertEquals(bad.message.includes("not a keypair file"), true);
  const url = await rejects(() =>
    resolveTarget(input({ endpoint: "ftp://x" }, local))
  );
  assertEquals(url.message.includes("http://"), true);
  const missing = await rejects(() =>
    resolveTarget(input({ keypairFile: "nope.keypair" }, local))
  );
  assertEquals(missing.message, "no keypair file nope.keypair");
});
