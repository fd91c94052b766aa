/**
 * The gateway's middleware chain and routing (app.ts) over real HTTP:
 * `GET /` and the public config without auth, the `Server` and rate-limit
 * headers (rate_limit.ts), every problem type of API.md (problems.ts) and
 * a 500 that leaks nothing, 404 vs 405 and `X-Method-Override`
 * (override.ts), and the body limits (body.ts). Harness: _test_support.ts.
 */
import { assert, assertEquals } from "../tests/support/assert.ts";
import { PROBLEMS, type ProblemType } from "./problems.ts";
import { LIMITED } from "../tests/support/gateway_standin.ts";
import {
  createSession,
  dualTest,
  enc,
  expectProblem,
  signed,
  withServer,
} from "./_test_support.ts";

dualTest(
  "GET / answers version without auth, with Server and anonymous rate-limit headers",
  async () => {
    await withServer(async (s) => {
      const res = await fetch(s.base + "/");
      assertEquals(res.status, 200);
      assertEquals(await res.json(), {
        version: "v6.20220315",
        manager: "standin-0.1",
      });
      assertEquals(res.headers.get("server"), "BackendAI");
      assertEquals(res.headers.get("x-ratelimit-limit"), "1000");
      assertEquals(res.headers.get("x-ratelimit-remaining"), "1000");
      assertEquals(res.headers.get("x-ratelimit-window"), "900");
      const slots = await fetch(s.base + "/config/resource-slots");
      assertEquals(await slots.json(), {
        cpu: "count",
        mem: "bytes",
        "cuda.device": "count",
      });
    });
  },
);

dualTest(
  "every problem type of API.md is reachable with its status; 500 leaks nothing",
  async () => {
    await withServer(async (s) => {
      for (
        const [name, def] of Object.entries(PROBLEMS) as [
          ProblemType,
          { status: number; title: string },
        ][]
      ) {
        if (name === "request-too-large") continue; // covered by the body-limit test
        const res = await signed(s, `/session/problem-${name}`);
        const body = await expectProblem(res, def.status, name);
        assertEquals(body.title, def.title);
        assertEquals(res.headers.get("server"), "BackendAI");
      }
      const duck = await expectProblem(
        await signed(s, "/session/duck-quota-exceeded"),
        412,
        "quota-exceeded",
      );
      assertEquals(duck.msg, "duck-typed");
      const res = await signed(s, "/session/crash");
      const text = await res.text();
      assertEquals(res.status, 500);
      assertEquals(JSON.parse(text), {
        type: "https://api.backend.ai/probs/internal-server-error",
        title: "Internal server error.",
      });
      assert(
        !text.includes("secret internal detail") && !text.includes("at "),
        text,
      );
    });
  },
);

dualTest(
  "routing: 404 url-not-found, 405 method-not-allowed, X-Method-Override",
  async () => {
    await withServer(async (s) => {
      await expectProblem(
        await fetch(s.base + "/no/such/path"),
        404,
        "url-not-found",
      );
      await expectProblem(
        await signed(s, "/no/such/path"),
        404,
        "url-not-found",
      );
      const res405 = await fetch(s.base + "/", { method: "DELETE" });
      await expectProblem(res405, 405, "method-not-allowed");
      assertEquals(res405.headers.get("allow"), "GET");
      await expectProblem(
        await fetch(s.base + "/config/resource-slots", { method: "POST" }),
        405,
        "method-not-allowed",
      );

      await createSession(s, "override-me");
      // POST carrying X-Method-Override: PATCH → restart (204), signed as PATCH.
      const restart = await signed(s, "/session/override-me", {
        method: "POST",
        signMethod: "PATCH",
        headers: { "X-Method-Override": "PATCH" },
      });
      assertEquals(restart.status, 204);
      assertEquals(restart.headers.get("server"), "BackendAI");
      const info = await (await signed(s, "/session/override-me")).json();
      assertEquals(info.statusInfo, "restarted");
      // Override to GET keeps the JSON body as parameters.
      const get = await signed(s, "/session/override-me", {
        method: "POST",
        signMethod: "GET",
        body: {},
        headers: { "X-Method-Override": "GET" },
      });
      assertEquals(get.status, 200);
      assertEquals((await get.json()).sessionName, "override-me");
    });
  },
);

dualTest(
  "rate limit: headers on authorized responses, 429 past the keypair's limit",
  async () => {
    await withServer(async (s) => {
      const remaining: string[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await signed(s, "/session/nothing", { key: LIMITED });
        await expectProblem(res, 404, "object-not-found");
        assertEquals(res.headers.get("x-ratelimit-limit"), "3");
        assertEquals(res.headers.get("x-ratelimit-window"), "900");
        remaining.push(res.headers.get("x-ratelimit-remaining")!);
      }
      assertEquals(remaining, ["2", "1", "0"]);
      const over = await signed(s, "/session/nothing", { key: LIMITED });
      const body = await expectProblem(over, 429, "rate-limit-exceeded");
      assertEquals(body.title, "You have reached your API query rate limit.");
      assertEquals(over.headers.get("x-ratelimit-remaining"), "0");
      // Other keypairs are counted separately, with the default limit.
      const other = await signed(s, "/session/nothing");
      await other.body?.cancel();
      assertEquals(other.headers.get("x-ratelimit-limit"), "1000");
      assertEquals(other.headers.get("x-ratelimit-remaining"), "999");
    });
  },
);

dualTest(
  "body: malformed JSON → 400, oversize → 413, never a 500",
  async () => {
    await withServer(async (s) => {
      await expectProblem(
        await signed(s, "/session", {
          method: "POST",
          rawBody: "{not json",
          contentType: "application/json",
        }),
        400,
        "invalid-api-params",
        "Malformed body",
      );
      await expectProblem(
        await signed(s, "/session", {
          method: "POST",
          rawBody: "[1,2]",
          contentType: "application/json",
        }),
        400,
        "invalid-api-params",
      );
      const big = "x".repeat(4096);
      await expectProblem(
        await signed(s, "/session", {
          method: "POST",
          body: { image: "python", name: "big-one", tag: big },
        }),
        413,
        "request-too-large",
      );
      // Streamed without Content-Length: the limit holds while reading.
      const chunks = new ReadableStream<Uint8Array>({
        start(c) {
          for (let i = 0; i < 8; i++) c.enqueue(enc.encode(big));
          c.close();
        },
      });
      await expectProblem(
        await signed(s, "/session", {
          method: "POST",
          rawBody: chunks,
          contentType: "application/json",
        }),
        413,
        "request-too-large",
      );
      // Anonymous oversize requests are refused the same way.
      await expectProblem(
        await fetch(s.base + "/", { method: "POST", body: big + big }),
        413,
        "request-too-large",
      );
    }, { jsonBodyLimit: 2048 });
  },
);
