/**
 * The client's signing against the real HTTP edge (createGateway served by
 * serveGateway) over stand-in manager deps: a GET with a JSON body (which
 * `fetch` refuses) arrives through the method override and is routed as
 * the GET it is; the streaming socket opens signed.
 */
import { assertEquals } from "../../tests/support/assert.ts";
import { createStandIn, USER } from "../../tests/support/gateway_standin.ts";
import { createGateway } from "../app.ts";
import { serveGateway } from "../serve.ts";
import { openSignedSocket, signedFetch } from "./sign.ts";

async function withGateway(fn: (base: string) => Promise<void>): Promise<void> {
  const app = createGateway(createStandIn().deps, { logError: () => {} });
  const server = await serveGateway(app, { hostname: "127.0.0.1", port: 0 });
  try {
    await fn(`http://127.0.0.1:${server.port}`);
  } finally {
    await server.shutdown();
  }
}

Deno.test("signedFetch: a GET with a JSON body goes through the method override, signed", async () => {
  await withGateway(async (base) => {
    const created = await signedFetch(base, USER, "POST", "/session", {
      image: "python",
      name: "sign-test",
    });
    assertEquals(created.status, 201, await created.text());
    const listed = await signedFetch(
      base,
      USER,
      "GET",
      "/session/sign-test/files",
      {
        path: "sub",
      },
    );
    assertEquals(listed.status, 200);
    assertEquals((await listed.json()).path, "sub");
    // The same GET with its parameter in the query string, no body.
    const query = await signedFetch(
      base,
      USER,
      "GET",
      "/session/sign-test/files?path=q",
    );
    assertEquals((await query.json()).path, "q");
    const wrong = await signedFetch(
      base,
      { ...USER, secretKey: "not-it" },
      "GET",
      "/session/sign-test",
      { x: 1 },
    );
    assertEquals(wrong.status, 401);
    await wrong.body?.cancel();
  });
});

Deno.test("openSignedSocket: the execute stream opens and runs", async () => {
  await withGateway(async (base) => {
    const created = await signedFetch(base, USER, "POST", "/session", {
      image: "python",
      name: "sock-test",
    });
    await created.body?.cancel();
    const ws = await openSignedSocket(
      base,
      USER,
      "/stream/session/sock-test/execute",
    );
    const frames: { status: string }[] = [];
    const closed = new Promise((r) => ws.onclose = r);
    ws.onmessage = (e) => frames.push(JSON.parse(e.data));
    ws.send(JSON.stringify({ code: "print(1)", mode: "query" }));
    await closed;
    assertEquals(frames.at(-1)?.status, "finished");
    let refused = "";
    try {
      await openSignedSocket(
        base,
        { ...USER, secretKey: "x" },
        "/stream/session/sock-test/execute",
      );
    } catch (e) {
      refused = (e as Error).message;
    }
    assertEquals(refused !== "", true);
  });
});
