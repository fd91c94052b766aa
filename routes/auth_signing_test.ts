/**
 * Request signing (auth.ts) over real HTTP, against a signer written from
 * API.md alone (_test_support.ts): every accepted date form, header name
 * and type word; what the signature covers; the clock skew window; each
 * auth failure's problem; and the real Backend.AI JavaScript client.
 * (auth_test.ts tests the module's functions directly.)
 */
import {
  assert,
  assertEquals,
  assertExists,
  assertMatch,
  assertNotEquals,
} from "../tests/support/assert.ts";
import {
  createBaiClient,
  isBaiClientError,
} from "../tests/support/bai_client.ts";
import { INACTIVE, USER } from "../tests/support/gateway_standin.ts";
import {
  createSession,
  dualTest,
  expectProblem,
  isoNow,
  signature,
  signed,
  type SignedInit,
  withServer,
} from "./_test_support.ts";

dualTest(
  "signature vectors: every accepted date form, header name and type word verifies",
  async () => {
    await withServer(async (s) => {
      await createSession(s, "vec-sess");
      const now = new Date();
      const iso = now.toISOString(); // 2026-11-28T12:40:45.215Z
      const ymd = iso.slice(0, 10).replaceAll("-", "");
      const micro = iso.replace(/\.(\d{3})Z$/, ".$1123+00:00"); // microseconds, +00:00
      const noZone = iso.replace(/Z$/, ""); // no zone means UTC
      const noFrac = iso.replace(/\.\d{3}Z$/, "+00:00");
      const rfc1123 = now.toUTCString(); // Sat, 28 Nov 2026 12:40:45 GMT
      // Same instant as +09:00: the key's day is the header's own calendar day.
      const tokyo = new Date(now.getTime() + 9 * 3600_000).toISOString()
        .replace(
          /Z$/,
          "+09:00",
        );
      const tokyoYmd = tokyo.slice(0, 10).replaceAll("-", "");
      const cases: [string, SignedInit][] = [
        ["iso Z ms", { date: iso }],
        ["iso micro +00:00", { date: micro, ymd }],
        ["iso without zone", { date: noZone, ymd }],
        ["iso without fraction", { date: noFrac, ymd }],
        ["iso +09:00", { date: tokyo, ymd: tokyoYmd }],
        ["rfc1123 in Date", { date: rfc1123, ymd, dateHeader: "Date" }],
        ["X-Sorna-Date", { date: iso, dateHeader: "X-Sorna-Date" }],
        ["X-Sorna-Version", { versionHeader: "X-Sorna-Version" }],
        ["Sorna type word", { typeWord: "Sorna" }],
        ["v4 version", { version: "v4.20190615" }],
        ["content type with parameters", {
          contentType: "Application/JSON; charset=utf-8",
        }],
      ];
      for (const [label, init] of cases) {
        const res = await signed(s, "/session/vec-sess", init);
        assertEquals(res.status, 200, `${label}: ${await res.clone().text()}`);
        await res.body?.cancel();
      }
      // Query string is part of the signed target; Host carries the port.
      const q = await signed(
        s,
        "/session/vec-sess?owner_access_key=" + USER.accessKey,
      );
      assertEquals(q.status, 200);
      await q.body?.cancel();
      assertMatch(s.host, /:\d+$/);
    });
  },
);

dualTest(
  "signature covers method, target, host, content type and version",
  async () => {
    await withServer(async (s) => {
      await createSession(s, "cover-sess");
      const date = isoNow();
      const ymd = date.slice(0, 10).replaceAll("-", "");
      const good = await signature({
        secret: USER.secretKey,
        method: "GET",
        target: "/session/cover-sess",
        date,
        ymd,
        host: s.host,
        contentType: "application/octet-stream",
        versionName: "x-backendai-version",
        version: "v6.20220315",
      });
      const send = (target: string, headers: Record<string, string>) =>
        fetch(s.base + target, {
          headers: {
            "X-BackendAI-Date": date,
            "X-BackendAI-Version": "v6.20220315",
            Authorization:
              `BackendAI signMethod=HMAC-SHA256, credential=${USER.accessKey}:${good}`,
            ...headers,
          },
        });
      const ok = await send("/session/cover-sess", {});
      assertEquals(ok.status, 200);
      await ok.body?.cancel();
      await expectProblem(
        await send("/session/cover-sess?x=1", {}),
        401,
        "auth-failed",
        "Signature mismatch",
      );
      await expectProblem(
        await send("/session/cover-sess", {
          "Content-Type": "application/json",
        }),
        401,
        "auth-failed",
        "Signature mismatch",
      );
      await expectProblem(
        await send("/session/cover-sess", {
          "X-BackendAI-Version": "v6.20210815",
        }),
        401,
        "auth-failed",
      );
      await expectProblem(
        await signed(s, "/session/cover-sess", { signMethod: "DELETE" }),
        401,
        "auth-failed",
        "Signature mismatch",
      );
      await expectProblem(
        await signed(s, "/session/cover-sess", { ymd: "19991231" }),
        401,
        "auth-failed",
        "Signature mismatch",
      );
    });
  },
);

dualTest(
  "clock skew: inside ±15 min passes, outside is 400 Date/time sync error",
  async () => {
    await withServer(async (s) => {
      await createSession(s, "skew-sess");
      for (const offset of [-14.8 * 60_000, 14.8 * 60_000]) {
        const res = await signed(s, "/session/skew-sess", {
          date: isoNow(offset),
        });
        assertEquals(res.status, 200, `offset ${offset}`);
        await res.body?.cancel();
      }
      for (const offset of [-15.2 * 60_000, 15.2 * 60_000, -86400_000]) {
        await expectProblem(
          await signed(s, "/session/skew-sess", { date: isoNow(offset) }),
          400,
          "invalid-auth-params",
          "Date/time sync error",
        );
      }
      await expectProblem(
        await signed(s, "/session/skew-sess", { date: "yesterday-ish" }),
        400,
        "invalid-auth-params",
        "Date/time sync error",
      );
    });
  },
);

dualTest(
  "auth failures: unknown, inactive, mismatch, malformed, anonymous, bad version",
  async () => {
    await withServer(async (s) => {
      const unknown = {
        accessKey: "AKIANOSUCHKEY0000000",
        secretKey: USER.secretKey,
      };
      await expectProblem(
        await signed(s, "/session/x", { key: unknown }),
        401,
        "auth-failed",
        "Access key not found",
      );
      await expectProblem(
        await signed(s, "/session/x", { key: INACTIVE }),
        401,
        "auth-failed",
        "Access key is inactive",
      );
      const wrong = { accessKey: USER.accessKey, secretKey: "not-the-secret" };
      await expectProblem(
        await signed(s, "/session/x", { key: wrong }),
        401,
        "auth-failed",
        "Signature mismatch",
      );

      const headers = {
        "X-BackendAI-Version": "v6.20220315",
        "X-BackendAI-Date": isoNow(),
      };
      for (
        const bad of [
          "BackendAI",
          "Bearer signMethod=HMAC-SHA256, credential=AK:SIG",
          "BackendAI signMethod=HMAC-SHA256",
          "BackendAI signMethod=HMAC-SHA256, credential=NOCOLON",
          "BackendAI garbage",
        ]
      ) {
        const res = await fetch(s.base + "/session/x", {
          headers: { ...headers, Authorization: bad },
        });
        await expectProblem(res, 400, "invalid-auth-params");
      }
      await expectProblem(
        await fetch(s.base + "/session/x", { headers }),
        401,
        "auth-failed",
      );
      await expectProblem(
        await fetch(s.base + "/", {
          headers: { "X-BackendAI-Version": "v7.20990101" },
        }),
        400,
        "generic-bad-request",
        "Unsupported API version.",
      );
      await expectProblem(
        await signed(s, "/session/x", { version: "v3.20170615" }),
        400,
        "generic-bad-request",
        "Unsupported API version.",
      );
      await expectProblem(
        await fetch(s.base + "/", {
          headers: { "X-Sorna-Version": "v2.20170315" },
        }),
        400,
        "generic-bad-request",
      );
    });
  },
);

dualTest(
  "real Backend.AI JS client (npm backend.ai-client@21.3.1) signs requests the gateway verifies",
  async () => {
    await withServer(async (s) => {
      const client = createBaiClient({ endpoint: s.base, ...USER });
      // v4 before the version handshake: /kernel/create.
      const v4 = await client.createIfNotExists("python:3.11", "jsv4-sess", {
        cpu: 1,
        mem: "1g",
      });
      assertEquals([v4.sessionName, v4.kernelId], ["jsv4-sess", v4.sessionId]);
      assertEquals((await client.getServerVersion()).version, "v6.20220315");
      assertEquals(await client.get_manager_version(), "standin-0.1");
      assertEquals(client.kernelPrefix, "/session");
      assertEquals(await client.get_resource_slots(), {
        cpu: "count",
        mem: "bytes",
        "cuda.device": "count",
      });
      const created = await client.createIfNotExists("python:3.11", "js-sess", {
        cpu: 1,
        mem: "512m",
      });
      assertEquals(created.created, true);
      const again = await client.createIfNotExists("python:3.11", "js-sess", {
        cpu: 1,
        mem: "512m",
      });
      assertEquals(again.created, false);
      const info = await client.get_info("js-sess");
      assertEquals(info.status, "RUNNING");
      const q = await client.execute(
        "js-sess",
        "jsrun001",
        "query",
        "x = input()",
        {},
      );
      assertEquals(q.result.status, "waiting-input");
      const i = await client.execute("js-sess", "jsrun001", "input", "42", {});
      assertEquals(i.result.console, [["stdout", "got 42\n"]]);
      const slow = await client.execute(
        "js-sess",
        "jsrun002",
        "query",
        "slow",
        {},
      );
      assertEquals(slow.result.status, "continued");
      const cont = await client.execute(
        "js-sess",
        "jsrun002",
        "continue",
        "",
        {},
      );
      assertEquals(cont.result.status, "finished");
      await client.restart("js-sess");
      const destroyed = await client.destroy("js-sess");
      assertExists(destroyed.stats);
      // Errors surface through the client's own error object.
      try {
        await client.get_info("problem-too-many-sessions-matched");
        throw new Error("expected a failure");
      } catch (err) {
        assert(isBaiClientError(err), String(err));
        assertEquals(err.statusCode, 404);
        assertEquals(err.title, "404 Not Found - Too many sessions matched.");
      }
      const wrong = createBaiClient({
        endpoint: s.base,
        accessKey: USER.accessKey,
        secretKey: "wrong",
      });
      try {
        await wrong.get_info("js-sess");
        throw new Error("expected a failure");
      } catch (err) {
        assert(isBaiClientError(err), String(err));
        assertEquals(err.statusCode, 401);
        assertNotEquals(err.description, undefined);
      }
    });
  },
);
