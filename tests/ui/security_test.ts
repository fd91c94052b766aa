/**
 * The dashboard's defences, in a real headless Chromium against a real
 * cluster: HTML in a session name, a file name and kernel output renders
 * as text (and the CSP forbids inline script anyway); a request without
 * the CSRF token or from another origin is refused with 403 and changes
 * nothing; one keypair's cookie never shows another's jobs, pages or
 * events; operator pages answer 403 to a user; failed sign-ins are
 * limited; a web session outlives a manager restart.
 */
import postgres from "postgres";
import type { Page } from "playwright-core";
import { startCluster, type TestCluster } from "../support/cluster.ts";
import {
  browserMissing,
  csrfOf,
  launchBrowser,
  signIn,
  type TestBrowser,
  VIEWPORTS,
} from "../support/browser.ts";
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { eventually } from "../support/eventually.ts";
import type { Credentials } from "../../routes/cli/sign.ts";
import { freePort } from "../support/ports.ts";

const missing = browserMissing();
if (missing) console.log(`tests/ui/security_test.ts skipped: ${missing}`);

const XSS_NAME = `<img src=x onerror="globalThis.__xss='name'">` +
  `<script>globalThis.__xss='name2'</script>`;
/** Fits the form's 64 characters. */
const XSS_FORM_NAME = `<script>globalThis.__xss='form'</script>`;
const XSS_FILE = `<img src=x onerror=globalThis.__xss=1>.txt`;
const XSS_OUT = `<script>globalThis.__xss='out'</script><b>bold</b>`;

async function xssRan(page: Page): Promise<unknown> {
  return await page.evaluate("globalThis.__xss");
}

/** A signed-in browser's session cookie, for requests made outside it. */
async function cookieOf(page: Page): Promise<string> {
  const k = (await page.context().cookies()).find((c) => c.name === "bai_ui");
  if (!k) throw new Error("not signed in");
  return `bai_ui=${k.value}`;
}

async function startSession(
  c: TestCluster,
  creds: Credentials,
  name: string,
): Promise<string> {
  const r = await c.json<{ sessionId: string }>("POST", "/session", {
    image: "python",
    name,
  }, creds);
  return r.sessionId;
}

async function statusOf(
  c: TestCluster,
  creds: Credentials,
  ref: string,
): Promise<string> {
  return (await c.json<{ status: string }>(
    "GET",
    `/session/${ref}`,
    undefined,
    creds,
  )).status;
}

Deno.test({
  name: "dashboard security in a real browser",
  ignore: missing !== undefined,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const pgPort = freePort();
    let c: TestCluster | undefined;
    let b: TestBrowser | undefined;
    let sql: postgres.Sql | undefined;
    try {
      c = await startCluster({
        agents: 1,
        // Room for every session the steps keep running at once.
        agentArgs: () => ["--cpu", "8"],
        managerEnv: { PG_PORT: String(pgPort) },
      });
      b = await launchBrowser();
      const cluster = c;
      const browser = b;
      const base = cluster.endpoint;
      const alice = await cluster.newKeypair();
      const bob = await cluster.newKeypair();
      const aliceId = await startSession(cluster, alice, "alice-job");
      const pa = await browser.newPage(VIEWPORTS.desktop);
      const pb = await browser.newPage(VIEWPORTS.desktop);
      await signIn(pa, base, alice);
      await signIn(pb, base, bob);

      await t.step(
        "every page carries a CSP without inline script",
        async () => {
          const res = await pa.goto(`${base}/ui/jobs`);
          const csp = res?.headers()["content-security-policy"] ?? "";
          assertMatch(csp, /script-src 'self'/);
          assert(!csp.includes("unsafe-inline"), csp);
          assertEquals(res?.headers()["x-frame-options"], "DENY");
        },
      );

      await t.step("a session name with HTML renders as text", async () => {
        // The form refuses such a name and shows it back, as text.
        await pa.goto(`${base}/ui/new`);
        await pa.getByLabel("Session name (optional)").fill(XSS_FORM_NAME);
        await pa.getByRole("button", { name: "Start session" }).click();
        await pa.locator("#new-error").waitFor();
        assertEquals(
          await pa.getByLabel("Session name (optional)").inputValue(),
          XSS_FORM_NAME,
        );
        assertEquals(await xssRan(pa), undefined);
        // The API refuses such names too; a row written by other means
        // (an older manager, a restore) must still show as text: the test
        // renames the session in the store directly.
        const password = (await Deno.readTextFile(
          `${cluster.dataDir}/postgres.password`,
        )).trim();
        sql = postgres(
          `postgres://postgres:${password}@127.0.0.1:${pgPort}/backendai`,
          { max: 1, onnotice: () => {} },
        );
        await sql`update sessions set name = ${XSS_NAME} where id = ${aliceId}`;
        await pa.goto(`${base}/ui/jobs`);
        const row = pa.locator(`#job-${aliceId}`);
        await row.waitFor();
        assertEquals(
          (await row.locator('[data-label="Name"] a').textContent())?.trim(),
          XSS_NAME,
        );
        assertEquals(await row.locator("img, script").count(), 0);
        await pa.goto(`${base}/ui/jobs/${aliceId}`);
        assertEquals(await pa.locator("main h1").textContent(), XSS_NAME);
        assertEquals(await pa.locator("main img").count(), 0);
        assertEquals(await xssRan(pa), undefined);
        await sql`update sessions set name = 'alice-job' where id = ${aliceId}`;
      });

      await t.step(
        "a file name and kernel output with HTML render as text",
        async () => {
          await pa.goto(`${base}/ui/jobs/${aliceId}`);
          await pa.getByLabel("Code").fill(
            `open(${JSON.stringify(XSS_FILE)}, "w").write("x")\n` +
              `print(${JSON.stringify(XSS_OUT)})`,
          );
          await pa.getByRole("button", { name: "Run" }).click();
          await pa.locator("#run-output pre").first().waitFor();
          assertMatch(
            await pa.locator("#run-output").textContent() ?? "",
            /<script>globalThis\.__xss='out'<\/script><b>bold<\/b>/,
          );
          assertEquals(
            await pa.locator("#run-output b, #run-output script").count(),
            0,
          );
          const files = await pa.locator("#files").textContent();
          assert(files?.includes(XSS_FILE), `file listed as text: ${files}`);
          assertEquals(await pa.locator("#files img").count(), 0);
          assertEquals(await xssRan(pa), undefined);
          // The container log view shows text too.
          const logs = await pa.goto(`${base}/ui/jobs/${aliceId}/logs`);
          assertEquals(logs?.status(), 200);
          await pa.locator("#logs").waitFor();
          assertEquals(await pa.locator("#logs *").count(), 0);
          assertEquals(await xssRan(pa), undefined);
        },
      );

      await t.step(
        "a request without the CSRF token is refused (403)",
        async () => {
          const cookie = await cookieOf(pa);
          const token = await csrfOf(pa);
          const stop = `${base}/ui/jobs/${aliceId}/stop`;
          const post = (headers: Record<string, string>, body: string) =>
            fetch(stop, {
              method: "POST",
              redirect: "manual",
              headers: {
                cookie,
                "content-type": "application/x-www-form-urlencoded",
                ...headers,
              },
              body,
            });
          // From the page itself, without the token.
          assertEquals(
            await pa.evaluate<number>(
              `fetch(${
                JSON.stringify(stop)
              }, { method: "POST" }).then((r) => r.status)`,
            ),
            403,
          );
          // A wrong token, another origin, or no origin at all.
          for (
            const [headers, body] of [
              [{ origin: base }, ""],
              [{ origin: base }, "_csrf=not-the-token"],
              [{ origin: "http://evil.example" }, `_csrf=${token}`],
              [{}, `_csrf=${token}`],
            ] as [Record<string, string>, string][]
          ) {
            const res = await post(headers, body);
            await res.body?.cancel();
            assertEquals(res.status, 403, JSON.stringify({ headers, body }));
          }
          // Sign-out without its token keeps the session too.
          const out = await fetch(`${base}/ui/signout`, {
            method: "POST",
            redirect: "manual",
            headers: { cookie, origin: base },
          });
          await out.body?.cancel();
          assertEquals(out.status, 403);
          // Nothing of it left a trace.
          assertEquals(await statusOf(cluster, alice, aliceId), "RUNNING");
          const still = await fetch(`${base}/ui/jobs`, {
            headers: { cookie, accept: "text/html" },
            redirect: "manual",
          });
          await still.body?.cancel();
          assertEquals(still.status, 200, "still signed in");
        },
      );

      await t.step(
        "one keypair's cookie never shows another's jobs",
        async () => {
          await pb.goto(`${base}/ui/jobs`);
          const html = await pb.content();
          assert(!html.includes(aliceId), "bob's Jobs page lists no alice job");
          assert(!html.includes("alice-job"));
          for (const path of ["", "/row", "/facts"]) {
            const res = await pb.request.get(
              `${base}/ui/jobs/${aliceId}${path}`,
            );
            assertEquals(res.status(), 404, path);
          }
          // Bob's own valid token does not stop alice's session.
          const res = await pb.request.post(`${base}/ui/jobs/${aliceId}/stop`, {
            headers: { origin: base, "x-csrf-token": await csrfOf(pb) },
            maxRedirects: 0,
          });
          assertEquals(res.status(), 404);
          assertEquals(await statusOf(cluster, alice, aliceId), "RUNNING");
          // Bob's event stream hears nothing of alice's sessions.
          await pb.goto(`${base}/ui/jobs`);
          await pa.goto(`${base}/ui/jobs`);
          const listen =
            `globalThis.__heard = []; const es = new EventSource("/ui/events");
          es.addEventListener("session", (e) => globalThis.__heard.push(JSON.parse(e.data).sessionId));
          new Promise((r) => es.addEventListener("open", r))`;
          await pa.evaluate(listen);
          await pb.evaluate(listen);
          const second = await startSession(cluster, alice, "alice-two");
          await eventually(
            "alice's page to hear her new session",
            async () =>
              (await pa.evaluate<string[]>("globalThis.__heard")).includes(
                  second,
                )
                ? true
                : undefined,
            30_000,
          );
          // Bob's stream works: he hears his own session, and only that.
          const bobs = await startSession(cluster, bob, "bob-one");
          await eventually(
            "bob's page to hear his session",
            async () =>
              (await pb.evaluate<string[]>("globalThis.__heard")).includes(bobs)
                ? true
                : undefined,
            30_000,
          );
          const heard = await pb.evaluate<string[]>("globalThis.__heard");
          assertEquals([...new Set(heard)], [bobs], "bob heard only his own");
          await cluster.json("DELETE", `/session/${bobs}`, undefined, bob);
          await cluster.json("DELETE", `/session/${second}`, undefined, alice);
        },
      );

      await t.step(
        "operator pages answer 403 to a user, 200 to an admin",
        async () => {
          const paths = [
            "/ui/admin/agents",
            "/ui/admin/scaling-groups",
            "/ui/admin/pending",
            "/ui/admin/keypairs",
            "/ui/admin/policies",
          ];
          await pb.goto(`${base}/ui`);
          const bobToken = await csrfOf(pb);
          for (const path of paths) {
            const res = await pb.goto(base + path);
            assertEquals(res?.status(), 403, path);
          }
          await pb.goto(`${base}/ui`);
          assertEquals(
            await pb.getByRole("link", { name: "Agents" }).count(),
            0,
            "no operator links for a user",
          );
          const agentId = cluster.agents[0].id;
          const drain = await pb.request.post(
            `${base}/ui/admin/agents/${agentId}/drain`,
            {
              headers: { origin: base },
              form: { _csrf: bobToken, draining: "1" },
              maxRedirects: 0,
            },
          );
          assertEquals(drain.status(), 403);
          const admin = await browser.newPage(VIEWPORTS.desktop);
          await signIn(admin, base, cluster.admin);
          for (const path of paths) {
            const res = await admin.goto(base + path);
            assertEquals(res?.status(), 200, path);
          }
          // Drain and undrain from the Agents page.
          const schedulable = async () =>
            (await cluster.json<Record<string, unknown>>(
              "GET",
              `/x/admin/agents/${agentId}`,
            )).schedulable;
          await admin.goto(`${base}/ui/admin/agents`);
          await admin.getByRole("button", { name: `Drain agent ${agentId}` })
            .click();
          await admin.getByRole("button", { name: `Undrain agent ${agentId}` })
            .waitFor();
          assertEquals(await schedulable(), false);
          await admin.getByRole("button", { name: `Undrain agent ${agentId}` })
            .click();
          await admin.getByRole("button", { name: `Drain agent ${agentId}` })
            .waitFor();
          assertEquals(await schedulable(), true);
        },
      );

      await t.step("failed sign-ins are limited per key", async () => {
        const carol = await cluster.newKeypair();
        const page = await browser.newPage(VIEWPORTS.desktop);
        const wrong = { ...carol, secretKey: "x".repeat(40) };
        for (let i = 0; i < 10; i++) {
          await page.goto(`${base}/ui/signin`);
          await page.getByLabel("Access key").fill(wrong.accessKey);
          await page.getByLabel("Secret key").fill(wrong.secretKey);
          const [res] = await Promise.all([
            page.waitForResponse((r) => r.request().method() === "POST"),
            page.getByRole("button", { name: "Sign in" }).click(),
          ]);
          assertEquals(res.status(), 401);
          // The refused page never echoes the secret it was given.
          assertEquals(await page.getByLabel("Secret key").inputValue(), "");
          assert(!(await page.content()).includes(wrong.secretKey));
        }
        await page.goto(`${base}/ui/signin`);
        await page.getByLabel("Access key").fill(carol.accessKey);
        await page.getByLabel("Secret key").fill(carol.secretKey);
        const [res] = await Promise.all([
          page.waitForResponse((r) => r.request().method() === "POST"),
          page.getByRole("button", { name: "Sign in" }).click(),
        ]);
        assertEquals(res.status(), 429, "even the right secret waits now");
        assert(Number(res.headers()["retry-after"]) > 0);
        // Another key from the same address still signs in.
        const dave = await cluster.newKeypair();
        await signIn(page, base, dave);
      });

      await t.step("a web session outlives a manager restart", async () => {
        await cluster.restartManager();
        const res = await pa.goto(`${base}/ui/jobs`);
        assertEquals(res?.status(), 200);
        assertMatch(pa.url(), /\/ui\/jobs$/);
        await pa.locator(`#job-${aliceId}`).waitFor();
      });
    } finally {
      await sql?.end({ timeout: 1 });
      await b?.close();
      await c?.stop();
    }
  },
});
