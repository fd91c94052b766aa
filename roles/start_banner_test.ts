import { assertEquals } from "../tests/support/assert.ts";
import { localUrl } from "./manager.ts";
import { startBanner } from "./start_banner.ts";

Deno.test("start banner: the default data dir needs no prefix; another is named; env keys are said", () => {
  const base = {
    url: "http://127.0.0.1:8081",
    adminAccessKey: "AKIAEXAMPLE000000001",
    adminFromEnv: false,
    cwd: "/srv/bai",
  };
  assertEquals(
    startBanner({ ...base, dataDir: "/srv/bai/var" }),
    "start: cluster ready on http://127.0.0.1:8081 (admin keypair AKIAEXAMPLE000000001, saved in var/admin.keypair) — try:\n" +
      "  deno task cli run --rm -c 'print(6 * 7)'\n" +
      "  deno task cli ps",
  );
  const other = startBanner({
    ...base,
    url: "http://127.0.0.1:40123",
    dataDir: "/tmp/second cluster",
  });
  assertEquals(
    other.split("\n")[2],
    "  DATA_DIR='/tmp/second cluster' deno task cli ps",
  );
  const env = startBanner({
    ...base,
    dataDir: "/srv/bai/var",
    adminFromEnv: true,
  });
  assertEquals(
    env.split("\n")[2],
    "  BACKEND_ACCESS_KEY=$ADMIN_ACCESS_KEY BACKEND_SECRET_KEY=$ADMIN_SECRET_KEY deno task cli ps",
  );
});

Deno.test("localUrl: a wildcard bind is reached on loopback", () => {
  assertEquals(localUrl("0.0.0.0", 8081), "http://127.0.0.1:8081");
  assertEquals(localUrl("::", 8081), "http://[::1]:8081");
  assertEquals(localUrl("10.0.0.5", 80), "http://10.0.0.5:80");
  assertEquals(localUrl("fe80::1", 80), "http://[fe80::1]:80");
});
