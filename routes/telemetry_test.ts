import { assertEquals } from "../tests/support/assert.ts";
import { createGateway } from "./app.ts";
import { signedFetch } from "./cli/sign.ts";
import { Registry } from "../actors/telemetry/mod.ts";
import { createStandIn, LIMITED } from "../tests/support/gateway_standin.ts";

function serve(token?: string) {
  const registry = new Registry();
  const app = createGateway(createStandIn().deps, {
    telemetry: { registry, metricsToken: token },
  });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    app.fetch,
  );
  return {
    registry,
    endpoint: `http://127.0.0.1:${server.addr.port}`,
    close: () => server.shutdown(),
  };
}

Deno.test("edge telemetry: problem responses by type and rate-limit refusals are counted", async () => {
  const s = serve();
  try {
    for (let i = 0; i < 2; i++) {
      await (await fetch(`${s.endpoint}/no/such/path`)).body?.cancel();
    }
    // LIMITED may make 3 requests per window: the 4th and 5th are refused.
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await signedFetch(s.endpoint, LIMITED, "GET", "/");
      await r.body?.cancel();
      codes.push(r.status);
    }
    assertEquals(codes, [200, 200, 200, 429, 429]);
    const text = await s.registry.render();
    assertEquals(
      text.includes('bai_api_problems_total{type="url-not-found"} 2\n'),
      true,
    );
    assertEquals(
      text.includes('bai_api_problems_total{type="rate-limit-exceeded"} 2\n'),
      true,
    );
    assertEquals(text.includes("bai_rate_limit_refusals_total 2\n"), true);
    // No token configured: the API port serves no metrics.
    const m = await fetch(`${s.endpoint}/metrics`);
    await m.body?.cancel();
    assertEquals(m.status, 404);
  } finally {
    await s.close();
  }
});

Deno.test("edge telemetry: GET /metrics on the API port wants the bearer token", async () => {
  const s = serve("t0ken");
  try {
    const statuses: number[] = [];
    for (
      const auth of [
        undefined,
        "Bearer wrong",
        "Basic dDBrZW4=",
        "Bearer t0ken",
      ]
    ) {
      const r = await fetch(`${s.endpoint}/metrics`, {
        headers: auth ? { authorization: auth } : {},
      });
      statuses.push(r.status);
      if (r.status === 200) {
        assertEquals(
          r.headers.get("content-type"),
          "text/plain; version=0.0.4; charset=utf-8",
        );
        assertEquals((await r.text()).includes("bai_api_problems_total"), true);
      } else {
        assertEquals(r.headers.get("content-type"), "application/problem+json");
        assertEquals((await r.json()).type.endsWith("/auth-failed"), true);
      }
    }
    assertEquals(statuses, [401, 401, 401, 200]);
  } finally {
    await s.close();
  }
});
