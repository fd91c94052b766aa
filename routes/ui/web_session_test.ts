import { Hono } from "hono";
import { assert, assertEquals } from "../../tests/support/assert.ts";
import { sameOrigin } from "./csrf.ts";
import { safeNext, setUiCookie } from "./web_session.ts";

function cookieApp() {
  const app = new Hono();
  app.get("/ui/x", (c) => {
    setUiCookie(c, "bai_ui", "token", 3_600_000);
    return c.text("ok");
  });
  return app;
}

Deno.test("the session cookie is HttpOnly, SameSite=Strict, scoped to /ui", async () => {
  const res = await cookieApp().request("http://dash.example/ui/x");
  const cookie = res.headers.get("set-cookie") ?? "";
  assert(cookie.includes("HttpOnly"), cookie);
  assert(cookie.includes("SameSite=Strict"), cookie);
  assert(cookie.includes("Path=/ui"), cookie);
  assert(cookie.includes("Max-Age=3600"), cookie);
  assert(
    !cookie.includes("Secure"),
    "plain http: no Secure (it would never be sent)",
  );
});

Deno.test("the session cookie is Secure over https, also behind a TLS proxy", async () => {
  const direct = await cookieApp().request("https://dash.example/ui/x");
  assert((direct.headers.get("set-cookie") ?? "").includes("Secure"));
  const proxied = await cookieApp().request("http://dash.example/ui/x", {
    headers: { "x-forwarded-proto": "https" },
  });
  assert((proxied.headers.get("set-cookie") ?? "").includes("Secure"));
});

Deno.test("sign-in sends browsers back only to dashboard paths", () => {
  assertEquals(safeNext("/ui/jobs"), "/ui/jobs");
  assertEquals(safeNext("/ui/jobs/3f2a-1"), "/ui/jobs/3f2a-1");
  for (
    const bad of [
      "https://evil.example/ui",
      "//evil.example/ui",
      "/ui//evil.example",
      "/ui/../x",
      "/x/admin",
      "/ui?next=//evil",
      "javascript:alert(1)",
      undefined,
      42,
    ]
  ) {
    assertEquals(safeNext(bad), "/ui", String(bad));
  }
});

Deno.test("same-origin: Origin (else Referer) must name this host", async () => {
  const app = new Hono();
  app.post("/", (c) => c.text(String(sameOrigin(c))));
  const ask = async (headers: Record<string, string>) =>
    await (await app.request("http://dash.example:8081/", {
      method: "POST",
      headers: { host: "dash.example:8081", ...headers },
    })).text();
  assertEquals(await ask({ origin: "http://dash.example:8081" }), "true");
  assertEquals(await ask({ origin: "https://dash.example:8081" }), "true");
  assertEquals(
    await ask({ referer: "http://dash.example:8081/ui/jobs" }),
    "true",
  );
  assertEquals(await ask({ origin: "http://evil.example" }), "false");
  assertEquals(await ask({ origin: "http://dash.example:9999" }), "false");
  assertEquals(await ask({ origin: "null" }), "false");
  assertEquals(await ask({}), "false");
  assertEquals(await ask({ origin: "not a url" }), "false");
});
