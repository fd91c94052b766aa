/**
 * The session API through the real manager, end to end (one cluster:
 * manager, embedded Postgres, one agent with real Docker kernels): request
 * signing checked by a signer written here from API.md alone, clock skew,
 * the rate limit under 200 concurrent requests, every problem type of
 * API.md that a real cluster can be made to answer, session name matching,
 * reuseIfExists, keypair isolation, `config.scale_in_protected`, a session
 * no agent could ever host, and Backend.AI's own JavaScript client (npm
 * `backend.ai-client`, unchanged) creating, querying, answering input(),
 * continuing and destroying a session.
 */
import { startCluster, type TestCluster } from "./support/cluster.ts";
import {
  assert,
  assertEquals,
  assertMatch,
  assertNotEquals,
} from "./support/assert.ts";
import {
  createSession,
  execute,
  expectProblem,
  type Problem,
  textOf,
} from "./api_helpers_test.ts";
import { PROBLEMS, type ProblemType } from "../routes/problems.ts";
import type { Credentials } from "../routes/cli/sign.ts";
import { createBaiClient, isBaiClientError } from "./support/bai_client.ts";
import { signed, type SignedInit } from "../routes/_test_support.ts";

// ------------------------------------------- an independent signer (API.md)

/** How {@link rawSigned} signs: routes/_test_support.ts's options, keypair named. */
type RawInit = SignedInit & { creds: Credentials };

/**
 * A request to the cluster signed as API.md describes (the spec's
 * algorithm in tests/support/spec_signer.ts, not the gateway's code).
 */
function rawSigned(
  c: TestCluster,
  target: string,
  init: RawInit,
): Promise<Response> {
  return signed({ base: c.endpoint, host: `127.0.0.1:${c.port}` }, target, {
    ...init,
    key: init.creds,
  });
}

async function drained(res: Response): Promise<Response> {
  await res.body?.cancel();
  return res;
}

// ---------------------------------------------------------------- the test

Deno.test({
  name: "api: sessions, auth, limits and the real JS client against a cluster",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    // One agent declaring 8 cpus, so a handful of 1-cpu sessions fit.
    const c = await startCluster({
      agents: 1,
      agentArgs: () => ["--cpu", "8"],
    });
    try {
      const [alice, bob] = await Promise.all([
        c.newKeypair(),
        c.newKeypair(),
      ]);
      const [aliceOne, aliceTwo, bobOne] = await Promise.all([
        createSession(c, "alpha-one", "python", alice),
        createSession(c, "alpha-two", "python", alice, {
          config: { scale_in_protected: true },
        }),
        createSession(c, "alpha-one", "python", bob),
      ]);
      assertNotEquals(aliceOne, bobOne);

      await t.step(
        "signature vectors: date forms, header names, query string, port in Host",
        async () => {
          const now = new Date();
          const iso = now.toISOString();
          const ymd = iso.slice(0, 10).replaceAll("-", "");
          const tokyo = new Date(now.getTime() + 9 * 3600_000).toISOString()
            .replace(/Z$/, "+09:00");
          const cases: [string, Omit<RawInit, "creds">][] = [
            ["ISO with Z", { date: iso }],
            ["ISO +00:00 with microseconds", {
              date: iso.replace(/\.(\d{3})Z$/, ".$1456+00:00"),
              ymd,
            }],
            ["ISO without zone (UTC)", { date: iso.replace(/Z$/, ""), ymd }],
            ["ISO +09:00: the key's day is the header's own", {
              date: tokyo,
              ymd: tokyo.slice(0, 10).replaceAll("-", ""),
            }],
            ["RFC 1123 in Date", {
              date: now.toUTCString(),
              ymd,
              dateHeader: "Date",
            }],
            ["X-Sorna-Date", { dateHeader: "X-Sorna-Date" }],
            ["X-Sorna-Version, Sorna type word", {
              versionHeader: "X-Sorna-Version",
              typeWord: "Sorna",
              version: "v4.20190615",
            }],
          ];
          for (const [label, init] of cases) {
            const res = await rawSigned(c, "/session/alpha-one", {
              creds: alice,
              ...init,
            });
            const text = await res.text();
            assertEquals(res.status, 200, `${label}: ${text}`);
            assertEquals(JSON.parse(text).sessionId, aliceOne, label);
          }
          // The query string is part of the signed target.
          const q = await rawSigned(
            c,
            `/session/alpha-one?owner_access_key=${alice.accessKey}`,
            { creds: alice },
          );
          assertEquals(q.status, 200, await q.text());
          // A signature for another day's key does not verify.
          await expectProblem(
            await rawSigned(c, "/session/alpha-one", {
              creds: alice,
              ymd: "20000101",
            }),
            401,
            "auth-failed",
          );
        },
      );

      await t.step(
        "clock skew: within 15 minutes passes, beyond is Date/time sync error",
        async () => {
          for (const minutes of [-14, 14]) {
            const date = new Date(Date.now() + minutes * 60_000).toISOString();
            const res = await drained(
              await rawSigned(c, "/session/alpha-one", { creds: alice, date }),
            );
            assertEquals(res.status, 200, `${minutes} min`);
          }
          for (const minutes of [-16, 16, 24 * 60]) {
            const date = new Date(Date.now() + minutes * 60_000).toISOString();
            const p = await expectProblem(
              await rawSigned(c, "/session/alpha-one", { creds: alice, date }),
              400,
              "invalid-auth-params",
            );
            assertEquals(p.msg, "Date/time sync error", `${minutes} min`);
          }
        },
      );

      await t.step(
        "rate limit is exact under 200 concurrent requests",
        async () => {
          const limit = 50;
          const limited = await c.newKeypair({ rateLimit: limit });
          const replies = await Promise.all(
            Array.from(
              { length: 200 },
              () =>
                c.api("GET", "/session/nothing-here", undefined, limited)
                  .then(drained),
            ),
          );
          const ok = replies.filter((r) => r.status === 404);
          const over = replies.filter((r) => r.status === 429);
          assertEquals([ok.length, over.length], [limit, 200 - limit]);
          for (const r of replies) {
            assertEquals(r.headers.get("x-ratelimit-limit"), String(limit));
            assertEquals(r.headers.get("x-ratelimit-window"), "900");
          }
          // Each admitted request saw its own remaining count, none twice.
          assertEquals(
            ok.map((r) => Number(r.headers.get("x-ratelimit-remaining")))
              .sort((a, b) => a - b),
            Array.from({ length: limit }, (_, i) => i),
          );
          for (const r of over) {
            assertEquals(r.headers.get("x-ratelimit-remaining"), "0");
          }
          const p = await expectProblem(
            await c.api("GET", "/session/nothing-here", undefined, limited),
            429,
            "rate-limit-exceeded",
          );
          assertEquals(p.title, "You have reached your API query rate limit.");
          // Other keypairs are counted apart.
          const other = await drained(
            await c.api("GET", "/session/alpha-one", undefined, alice),
          );
          assertEquals(other.status, 200);
          assertEquals(other.headers.get("x-ratelimit-limit"), "1000");
        },
      );

      await t.step(
        "session refs: exact name, id prefix, name prefix, too many matched",
        async () => {
          const get = (ref: string, creds = alice) =>
            c.json<{ sessionId: string; sessionName: string }>(
              "GET",
              `/session/${ref}`,
              undefined,
              creds,
            );
          assertEquals((await get("alpha-one")).sessionId, aliceOne);
          assertEquals((await get(aliceTwo)).sessionName, "alpha-two");
          assertEquals((await get(aliceTwo.slice(0, 8))).sessionId, aliceTwo);
          assertEquals((await get("alpha-t")).sessionId, aliceTwo);
          await expectProblem(
            await c.api("GET", "/session/alpha", undefined, alice),
            404,
            "too-many-sessions-matched",
          );
          await expectProblem(
            await c.api("POST", "/session/alpha/interrupt", undefined, alice),
            404,
            "too-many-sessions-matched",
          );
          await expectProblem(
            await c.api("GET", "/session/zzz-none", undefined, alice),
            404,
            "object-not-found",
          );
        },
      );

      await t.step(
        "reuseIfExists: same image reuses (200), otherwise session-already-exists",
        async () => {
          const res = await c.api("POST", "/session", {
            image: "python",
            name: "alpha-one",
          }, alice);
          assertEquals(res.status, 200);
          const body = await res.json();
          assertEquals([body.sessionId, body.created], [aliceOne, false]);
          const noReuse = await expectProblem(
            await c.api("POST", "/session", {
              image: "python",
              name: "alpha-one",
              reuseIfExists: false,
            }, alice),
            400,
            "session-already-exists",
          );
          assertEquals(noReuse.data?.existingSessionId, aliceOne);
          const otherImage = await expectProblem(
            await c.api("POST", "/session", {
              image: "bash",
              name: "alpha-one",
            }, alice),
            400,
            "session-already-exists",
          );
          assertEquals(otherImage.data?.existingSessionId, aliceOne);
        },
      );

      await t.step(
        "keypair isolation: B sees none of A's sessions (404), same names apart",
        async () => {
          const asAlice = async (code: string) => {
            const r = await execute(c, "alpha-one", {
              mode: "query",
              code,
              runId: null,
            }, alice);
            assertEquals([r.status, r.exitCode], ["finished", 0]);
            return textOf(r);
          };
          await asAlice("secret = 'alice'");
          const asBob = (method: string, path: string, body?: unknown) =>
            c.api(method, path, body, bob);
          for (
            const [method, path, body] of [
              ["GET", `/session/${aliceTwo}`],
              ["GET", "/session/alpha-two"],
              ["GET", `/session/${aliceTwo.slice(0, 8)}`],
              ["DELETE", "/session/alpha-two"],
              ["PATCH", "/session/alpha-two"],
              ["POST", "/session/alpha-two/interrupt"],
              ["POST", "/session/alpha-two", {
                mode: "query",
                code: "print(1)",
                runId: null,
              }],
              ["GET", "/session/alpha-two/files?path=."],
            ] as [string, string, unknown?][]
          ) {
            await expectProblem(
              await asBob(method, path, body),
              404,
              "object-not-found",
            );
          }
          // "alpha-one" is Bob's own session, not Alice's: its state is apart.
          const bobInfo = await c.json<
            { sessionId: string; status: string; statusInfo: string }
          >("GET", "/session/alpha-one", undefined, bob);
          assertEquals(
            [bobInfo.sessionId, bobInfo.status],
            [bobOne, "RUNNING"],
            JSON.stringify(bobInfo),
          );
          const r = await execute(c, "alpha-one", {
            mode: "query",
            code: "print('secret' in dir())",
            runId: null,
          }, bob);
          assertEquals([r.status, textOf(r)], ["finished", "False\n"]);
          // Only an admin may act for another keypair.
          await expectProblem(
            await asBob(
              "GET",
              `/session/alpha-two?owner_access_key=${alice.accessKey}`,
            ),
            403,
            "insufficient-privilege",
          );
          const asAdmin = await c.json<{ sessionId: string }>(
            "GET",
            `/session/alpha-two?owner_access_key=${alice.accessKey}`,
          );
          assertEquals(asAdmin.sessionId, aliceTwo);
          // Alice's session is untouched by Bob's attempts.
          assertEquals(
            await asAlice("print(secret)"),
            "alice\n",
          );
        },
      );

      await t.step(
        "config.scale_in_protected reaches the session",
        async () => {
          const info = (ref: string) =>
            c.json<{ protected: boolean }>(
              "GET",
              `/session/${ref}`,
              undefined,
              alice,
            );
          assertEquals((await info("alpha-two")).protected, true);
          assertEquals((await info("alpha-one")).protected, false);
          await expectProblem(
            await c.api("POST", "/session", {
              image: "python",
              name: "bad-flag",
              config: { scale_in_protected: "perhaps" },
            }, alice),
            400,
            "invalid-api-params",
          );
        },
      );

      await t.step(
        "a session no agent could ever host is refused at once (503)",
        async () => {
          const p = await expectProblem(
            await c.api("POST", "/session", {
              image: "python",
              name: "too-big",
              config: { resources: { cpu: 1000, mem: "1g" } },
            }, alice),
            503,
            "instance-not-available",
          );
          assert(p.msg, JSON.stringify(p));
          // It ended (CANCELLED), so the name is free again and GET finds it.
          const ended = await c.json<{ status: string }>(
            "GET",
            "/session/too-big",
            undefined,
            alice,
          );
          assertEquals(ended.status, "CANCELLED");
        },
      );

      await t.step(
        "every problem type of API.md a real cluster can answer (table)",
        async () => {
          const tiny = "tiny-" + crypto.randomUUID().slice(0, 6);
          await c.json("PUT", `/x/admin/resource-policies/${tiny}`, {
            totalResourceSlots: { cpu: 0.5 },
          });
          const capped = await c.newKeypair({ resourcePolicy: tiny });
          const oneShot = await c.newKeypair({ rateLimit: 1 });
          await drained(
            await c.api("GET", "/session/x-none", undefined, oneShot),
          );
          const stranger = {
            accessKey: "AKIANOSUCHKEY0000000",
            secretKey: alice.secretKey,
          };
          const table: [ProblemType, () => Promise<Response>][] = [
            ["url-not-found", () => c.api("GET", "/no/such/path")],
            ["object-not-found", () => c.api("GET", "/session/x-none")],
            ["generic-bad-request", () =>
              fetch(c.endpoint + "/", {
                headers: { "X-BackendAI-Version": "v9.20990101" },
              })],
            [
              "invalid-auth-params",
              () =>
                fetch(c.endpoint + "/session/x-none", {
                  headers: {
                    "X-BackendAI-Version": "v6.20220315",
                    "X-BackendAI-Date": new Date().toISOString(),
                    Authorization: "BackendAI garbage",
                  },
                }),
            ],
            [
              "invalid-api-params",
              () => c.api("POST", "/session", { image: "python", name: "-x" }),
            ],
            [
              "auth-failed",
              () => c.api("GET", "/session/x", undefined, stranger),
            ],
            [
              "insufficient-privilege",
              () => c.api("GET", "/x/admin/keypairs", undefined, alice),
            ],
            [
              "method-not-allowed",
              () => fetch(c.endpoint + "/", { method: "DELETE" }),
            ],
            ["session-already-exists", () =>
              c.api("POST", "/session", {
                image: "python",
                name: "alpha-one",
                reuseIfExists: false,
              }, alice)],
            ["quota-exceeded", () =>
              c.api("POST", "/session", {
                image: "python",
                name: "capped",
              }, capped)],
            [
              "rate-limit-exceeded",
              () => c.api("GET", "/session/x-none", undefined, oneShot),
            ],
            [
              "too-many-sessions-matched",
              () => c.api("GET", "/session/alpha", undefined, alice),
            ],
            ["instance-not-available", () =>
              c.api("POST", "/session", {
                image: "python",
                name: "huge-one",
                config: { resources: { cpu: 1000 } },
              })],
            ["vfolder-not-found", () =>
              c.api("POST", "/session", {
                image: "python",
                name: "with-data",
                config: { mounts: ["/etc"] },
              })],
            [
              "graphql-error",
              () =>
                c.api("POST", "/admin/graphql", { query: "{ no_such_field }" }),
            ],
            [
              "object-in-use",
              () => c.api("DELETE", `/x/admin/resource-policies/${tiny}`), // capped uses it
            ],
            ["request-too-large", () =>
              c.api("POST", "/session", {
                image: "python",
                name: "large",
                tag: "x".repeat(2 << 20),
              })],
          ];
          // Not producible on demand against a healthy real cluster; the
          // stand-in table in routes/app_test.ts covers their wire form.
          const standInOnly: Record<string, string> = {
            "internal-server-error": "a manager bug",
            "kernel-creation-failed": "a container that fails to start",
            "kernel-execution-failed": "a runner failure mid-run",
            "generic-forbidden": "no route answers it",
            "service-unavailable": "a kernel's agent away (next step)",
            "vfolder-already-exists":
              "no storage host in this cluster (tests/folders_api_test.ts)",
            "websocket-version-unsupported":
              "a raw upgrade fetch cannot send (tests/edge_input_test.ts)",
            "session-busy":
              "a second run while one goes on (tests/api_runs_test.ts)",
            "insufficient-storage":
              "the database's disk full (tests/faults_disk_full_test.ts)",
          };
          assertEquals(
            [...table.map(([n]) => n), ...Object.keys(standInOnly)].sort(),
            Object.keys(PROBLEMS).sort(),
          );
          for (const [name, send] of table) {
            const res = await send();
            const def = PROBLEMS[name];
            const body: Problem = await expectProblem(res, def.status, name);
            assertEquals(body.title, def.title, name);
            assertEquals(res.headers.get("server"), "BackendAI", name);
          }
        },
      );

      await t.step(
        "ended sessions: only GET finds them; the name can be reused",
        async () => {
          const stats = await c.json<{ stats: Record<string, unknown> }>(
            "DELETE",
            "/session/alpha-two",
            undefined,
            alice,
          );
          assert(stats.stats && typeof stats.stats === "object");
          const ended = await c.json<{ status: string; sessionId: string }>(
            "GET",
            "/session/alpha-two",
            undefined,
            alice,
          );
          assertEquals([ended.sessionId, ended.status], [
            aliceTwo,
            "TERMINATED",
          ]);
          for (
            const [method, path] of [
              ["DELETE", "/session/alpha-two"],
              ["POST", "/session/alpha-two/interrupt"],
              ["PATCH", "/session/alpha-two"],
            ]
          ) {
            await expectProblem(
              await c.api(method, path, undefined, alice),
              404,
              "object-not-found",
            );
          }
          // With alpha-two ended, "alpha" names the one live session, for
          // GET too: ended sessions match a prefix only when nothing live does.
          const interrupted = await c.api(
            "POST",
            "/session/alpha/interrupt",
            undefined,
            alice,
          );
          assertEquals(interrupted.status, 204, await interrupted.text());
          const byPrefix = await c.json<{ sessionId: string }>(
            "GET",
            "/session/alpha",
            undefined,
            alice,
          );
          assertEquals(byPrefix.sessionId, aliceOne);
          const onlyEnded = await c.json<{ sessionId: string }>(
            "GET",
            "/session/alpha-t",
            undefined,
            alice,
          );
          assertEquals(onlyEnded.sessionId, aliceTwo);
          const again = await c.api("POST", "/session", {
            image: "python",
            name: "alpha-two",
            enqueueOnly: true,
          }, alice);
          assertEquals(again.status, 201);
          const fresh = await again.json();
          assertEquals(fresh.created, true);
          assertNotEquals(fresh.sessionId, aliceTwo);
          // The name now means the new session (the live one wins).
          const byName = await c.json<{ sessionId: string }>(
            "GET",
            "/session/alpha-two",
            undefined,
            alice,
          );
          assertEquals(byName.sessionId, fresh.sessionId);
          await c.json(
            "DELETE",
            `/session/${fresh.sessionId}`,
            undefined,
            alice,
          );
        },
      );

      await t.step(
        "the real Backend.AI JS client: create, query, input, continue, destroy",
        async () => {
          const client = createBaiClient({
            endpoint: c.endpoint,
            ...alice,
            requestTimeoutMs: 60_000,
          });
          assertEquals(
            (await client.getServerVersion()).version,
            "v6.20220315",
          );
          await client.get_manager_version();
          assertEquals(client.kernelPrefix, "/session");
          const created = await client.createIfNotExists(
            "python",
            "js-client",
            { cpu: 1, mem: "512m" },
          );
          assertEquals(created.created, true);
          const again = await client.createIfNotExists("python", "js-client", {
            cpu: 1,
            mem: "512m",
          });
          assertEquals(
            [again.created, again.sessionId],
            [false, created.sessionId],
          );
          const info = await client.get_info("js-client");
          assertEquals(info.status, "RUNNING");
          const q = await client.execute(
            "js-client",
            "js-run-1",
            "query",
            "x = 20\nprint('hello')",
            {},
          );
          assertEquals(q.result.status, "finished");
          assertEquals(q.result.console, [["stdout", "hello\n"]]);
          const ask = await client.execute(
            "js-client",
            "js-run-2",
            "query",
            "n = int(input('n? '))\nprint(n + x)",
            {},
          );
          assertEquals(ask.result.status, "waiting-input");
          let r = await client.execute(
            "js-client",
            "js-run-2",
            "input",
            "22",
            {},
          );
          while (r.result.status === "continued") {
            r = await client.execute(
              "js-client",
              "js-run-2",
              "continue",
              "",
              {},
            );
          }
          assertEquals(r.result.status, "finished");
          assertMatch(JSON.stringify(r.result.console), /42\\n/);
          const slow = await client.execute(
            "js-client",
            "js-run-3",
            "query",
            "import time\nfor i in range(3):\n    print(i, flush=True)\n    time.sleep(1)",
            {},
          );
          assertEquals(slow.result.status, "continued");
          const seen = [slow.result];
          while (seen.at(-1)!.status === "continued") {
            seen.push(
              (await client.execute(
                "js-client",
                "js-run-3",
                "continue",
                "",
                {},
              ))
                .result,
            );
          }
          assertEquals(seen.at(-1)!.status, "finished");
          assertEquals(
            seen.flatMap((s) => s.console as [string, string][])
              .map(([, t]) => t).join(""),
            "0\n1\n2\n",
          );
          const destroyed = await client.destroy("js-client");
          assert(destroyed.stats, JSON.stringify(destroyed));
          try {
            await client.get_info("js-cl-missing");
            throw new Error("expected a failure");
          } catch (err) {
            assert(isBaiClientError(err), String(err));
            assertEquals(err.statusCode, 404);
          }
        },
      );

      await t.step(
        "service-unavailable while the kernel's agent is away",
        async () => {
          await c.killAgent(c.agents[0].id);
          let res: Response | undefined;
          for (let i = 0; i < 300; i++) {
            res = await c.api(
              "GET",
              "/session/alpha-one/files?path=.",
              undefined,
              alice,
            );
            if (res.status === 503) break;
            await res.body?.cancel();
            await new Promise((r) => setTimeout(r, 100));
          }
          await expectProblem(res!, 503, "service-unavailable");
          // The session itself is still RUNNING, waiting for its agent.
          const info = await c.json<{ status: string }>(
            "GET",
            "/session/alpha-one",
            undefined,
            alice,
          );
          assertEquals(info.status, "RUNNING");
        },
      );
    } finally {
      await c.stop();
    }
  },
});
