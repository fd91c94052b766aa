/**
 * The dashboard's main flows in a real headless Chromium against a real
 * cluster (manager + agent processes, Docker kernels, embedded Postgres):
 * sign in, start a session from the form, watch its usage grow live,
 * stop it, sign out and find the pages closed; the same with the keyboard
 * alone; screenshots of every page at 1280×800 and 390×844.
 *
 * Screenshots go to `UI_SCREENSHOTS` (default `var/screenshots/`); with
 * `UI_DOCS_SCREENSHOTS=1` also to `docs/screenshots/` for the README.
 */
import type { Page } from "playwright-core";
import { startCluster, type TestCluster } from "../support/cluster.ts";
import {
  browserMissing,
  launchBrowser,
  saveScreenshot,
  signIn,
  type TestBrowser,
  VIEWPORTS,
} from "../support/browser.ts";
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { eventually } from "../support/eventually.ts";
import type { Credentials } from "../../routes/cli/sign.ts";

const missing = browserMissing();
if (missing) console.log(`tests/ui/flows_test.ts skipped: ${missing}`);

/** Seconds in a "12.3 sec" / "121 sec" cell. */
function seconds(text: string | null): number {
  const m = /([\d.]+) sec/.exec(text ?? "");
  return m ? Number(m[1]) : NaN;
}

async function sessionIdFromUrl(page: Page): Promise<string> {
  await page.waitForURL(/\/ui\/jobs\/[0-9a-f-]{36}$/);
  return page.url().split("/").at(-1)!;
}

/** Tabs until `name` has the focus (bounded), as a keyboard user would. */
async function tabTo(page: Page, name: string, max = 40): Promise<void> {
  // A page that reloads meanwhile (the session page does when its session
  // reaches RUNNING, which can land just after the test saw it) starts the
  // focus over: so do we, a few times.
  let loads = 0;
  const onLoad = () => loads++;
  page.on("load", onLoad);
  try {
    for (let restart = 0; restart < 3; restart++) {
      const before = loads;
      if (await tabWithin(page, name, max)) return;
      if (loads === before) break;
    }
  } finally {
    page.off("load", onLoad);
  }
  throw new Error(`could not reach "${name}" with Tab`);
}

async function tabWithin(
  page: Page,
  name: string,
  max: number,
): Promise<boolean> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press("Tab");
    if ((await focusedName(page)) === name) return true;
  }
  return false;
}

/** The accessible name of what has the keyboard focus ("" for none). */
function focusedName(page: Page): Promise<string> {
  return page.evaluate<string>(`(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return "";
    const label = el.id
      ? document.querySelector('label[for="' + el.id + '"]')?.textContent
      : null;
    return (label ?? el.getAttribute("aria-label") ?? el.textContent ?? "")
      .trim();
  })()`);
}

Deno.test({
  name: "dashboard flows in a real browser",
  ignore: missing !== undefined,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    let c: TestCluster | undefined;
    let b: TestBrowser | undefined;
    try {
      c = await startCluster({ agents: 1, agentArgs: () => ["--cpu", "4"] });
      b = await launchBrowser();
      const cluster = c;
      const browser = b;
      const user: Credentials = await cluster.newKeypair();
      const page = await browser.newPage(VIEWPORTS.desktop);
      let sessionId = "";
      const name = "ui-flow-1";

      await t.step("sign in with an access key and secret key", async () => {
        await signIn(page, cluster.endpoint, user);
        await page.getByRole("heading", { name: "Summary" }).waitFor();
        const cookies = await page.context().cookies();
        const session = cookies.find((k) => k.name === "bai_ui");
        assert(session, "a session cookie is set");
        assertEquals(session.httpOnly, true);
        assertEquals(session.sameSite, "Strict");
        assertEquals(session.path, "/ui");
        assert(!session.value.includes(user.secretKey));
        // The secret key stays nowhere in the page or its storage.
        assert(!(await page.content()).includes(user.secretKey));
        const stored = await page.evaluate<string>(
          "JSON.stringify({ ...localStorage, ...sessionStorage }) + document.cookie",
        );
        assert(!stored.includes(user.secretKey), "nothing stored holds it");
        assertEquals(await page.evaluate<string>("document.cookie"), "");
      });

      await t.step("start a session from the form", async () => {
        await page.getByRole("link", { name: "New session" }).first().click();
        await page.getByLabel("Session name (optional)").fill(name);
        await page.getByLabel("Image").selectOption("python");
        await page.getByLabel("CPU cores").fill("1");
        await page.getByLabel("Memory (GB)").fill("1");
        await page.getByRole("button", { name: "Start session" }).click();
        sessionId = await sessionIdFromUrl(page);
        // The page follows the session to RUNNING by itself (event stream).
        await page.locator('#job-facts[data-status="RUNNING"]').waitFor({
          timeout: 120_000,
        });
        const info = await cluster.json<{ status: string }>(
          "GET",
          `/session/${name}`,
          undefined,
          user,
        );
        assertEquals(info.status, "RUNNING");
      });

      await t.step("Jobs shows it, and its usage grows live", async () => {
        await page.getByRole("link", { name: "Jobs", exact: true }).click();
        const row = page.locator(`#job-${sessionId}`);
        await row.waitFor();
        assertEquals(
          (await row.locator('[data-label="Configuration"]').textContent())
            ?.trim(),
          "1 core 1 GB",
        );
        assertMatch(
          (await row.locator('[data-label="Image"]').textContent()) ?? "",
          /python/,
        );
        assertEquals(await row.getAttribute("data-status"), "RUNNING");
        // A marker survives only if the page is not reloaded.
        await page.evaluate("globalThis.__noReload = true");
        const cpu = row.locator(`[data-cpu-of="${sessionId}"]`);
        const before = seconds(await cpu.textContent());
        assert(Number.isFinite(before), "cpu time shown");
        await cluster.json("POST", `/session/${name}`, {
          mode: "query",
          code:
            "import time\nt=time.process_time()\nwhile time.process_time()-t<3: pass",
          runId: null,
        }, user);
        const after = await eventually(
          "the CPU time cell to grow",
          async () => {
            const s = seconds(await cpu.textContent());
            return s >= before + 2 ? s : undefined;
          },
          60_000,
        );
        assert(after > before);
        assert(
          await page.evaluate<boolean>("globalThis.__noReload === true"),
          "updated in place from the event stream, not by reloading",
        );
        const mem = await row.locator(`[data-mem-of="${sessionId}"]`)
          .textContent();
        assertMatch(mem ?? "", /\d+ (KB|MB|GB)/);
      });

      await t.step("screenshots of each page", async () => {
        const admin = await browser.newPage(VIEWPORTS.desktop);
        await signIn(admin, cluster.endpoint, cluster.admin);
        // Summary, New session, Folders, Statistics, Settings, Agents and
        // Scaling groups are photographed with folders, prices and a
        // terminal in tests/ui/workspace_test.ts.
        const userPages: [string, string][] = [
          ["jobs", "/ui/jobs"],
          ["job", `/ui/jobs/${sessionId}`],
        ];
        const adminPages: [string, string][] = [
          ["pending", "/ui/admin/pending"],
          ["keypairs", "/ui/admin/keypairs"],
          ["policies", "/ui/admin/policies"],
        ];
        for (const [label, size] of Object.entries(VIEWPORTS)) {
          for (
            const [p, list] of [[page, userPages], [admin, adminPages]] as const
          ) {
            await p.setViewportSize(size);
            for (const [shot, path] of list) {
              const res = await p.goto(cluster.endpoint + path);
              assertEquals(res?.status(), 200, path);
              await p.locator("main h1").waitFor();
              if (shot === "job") {
                // Wait for the live plot to have a line to show.
                await p.locator("#usage-chart[data-points]").waitFor({
                  timeout: 30_000,
                });
              }
              // Nothing is wider than the screen (responsive layout).
              const overflow = await p.evaluate<number>(
                "document.documentElement.scrollWidth - innerWidth",
              );
              assert(
                overflow <= 1,
                `${path} at ${label}: ${overflow}px too wide`,
              );
              // Every form field has a label.
              const unlabelled = await p.evaluate<string[]>(
                `[...document.querySelectorAll(
                'input:not([type=hidden]), select, textarea')]
                .filter((el) => el.labels.length === 0 && !el.getAttribute("aria-label"))
                .map((el) => el.name || el.id)`,
              );
              assertEquals(unlabelled, [], `${path}: fields without a label`);
              await saveScreenshot(p, `${shot}-${size.width}x${size.height}`);
            }
          }
        }
        await page.setViewportSize(VIEWPORTS.desktop);
        const sign = await browser.newPage(VIEWPORTS.phone);
        await sign.goto(`${cluster.endpoint}/ui/signin`);
        await saveScreenshot(sign, "signin-390x844");
        await sign.setViewportSize(VIEWPORTS.desktop);
        await saveScreenshot(sign, "signin-1280x800");
      });

      await t.step(
        "the live usage plot is drawn by uPlot from npm",
        async () => {
          await page.goto(`${cluster.endpoint}/ui/jobs/${sessionId}`);
          await page.locator("#usage-chart .uplot canvas").waitFor({
            timeout: 30_000,
          });
          const res = await page.request.get(
            `${cluster.endpoint}/ui/assets/vendor/uplot.js`,
          );
          assertEquals(res.status(), 200);
          assertMatch(res.headers()["content-type"], /javascript/);
        },
      );

      await t.step(
        "a status change reloads the session page with the keyboard focus where it was",
        async () => {
          await page.goto(`${cluster.endpoint}/ui/jobs/${sessionId}`);
          await tabTo(page, "Logs");
          for (const action of ["suspend", "resume"]) {
            const reloaded = page.waitForEvent("load", { timeout: 30_000 });
            await cluster.json(
              "POST",
              `/x/session/${sessionId}/${action}`,
              {},
              user,
            );
            await reloaded;
            await eventually(
              `the focus back on Logs after ${action}`,
              async () => (await focusedName(page)) === "Logs" || undefined,
            );
          }
        },
      );

      await t.step("stop it", async () => {
        await page.goto(`${cluster.endpoint}/ui/jobs`);
        await page.getByRole("button", { name: `Stop session ${name}` })
          .click();
        await page.waitForURL(`${cluster.endpoint}/ui/jobs`);
        await page.locator(`#jobs-recent #job-${sessionId}`).waitFor({
          timeout: 60_000,
        });
        const info = await eventually("the session to end", async () => {
          const s = await cluster.json<{ status: string }>(
            "GET",
            `/session/${sessionId}`,
            undefined,
            user,
          );
          return s.status === "TERMINATED" ? s : undefined;
        });
        assertEquals(info.status, "TERMINATED");
      });

      await t.step("sign out, and the pages are closed", async () => {
        const cookie = (await page.context().cookies()).find((k) =>
          k.name === "bai_ui"
        )!;
        await page.getByRole("button", { name: "Sign out" }).click();
        await page.waitForURL(`${cluster.endpoint}/ui/signin`);
        for (const path of ["/ui", "/ui/jobs", "/ui/new"]) {
          await page.goto(cluster.endpoint + path);
          assertMatch(page.url(), /\/ui\/signin/);
        }
        // The old cookie opens nothing either: the session is gone server-side.
        const replay = await fetch(`${cluster.endpoint}/ui/jobs`, {
          headers: { cookie: `bai_ui=${cookie.value}`, accept: "text/html" },
          redirect: "manual",
        });
        await replay.body?.cancel();
        assertEquals(replay.status, 303);
        assertMatch(replay.headers.get("location") ?? "", /\/ui\/signin/);
      });

      await t.step(
        "keyboard alone: sign in, start and stop a session",
        async () => {
          const kb = await browser.newPage(VIEWPORTS.desktop);
          await kb.goto(`${cluster.endpoint}/ui/signin`);
          // The access key field has the focus on arrival.
          await kb.keyboard.type(user.accessKey);
          await kb.keyboard.press("Tab");
          await kb.keyboard.type(user.secretKey);
          await kb.keyboard.press("Enter");
          await kb.waitForURL(`${cluster.endpoint}/ui`);
          await tabTo(kb, "New session");
          await kb.keyboard.press("Enter");
          await kb.waitForURL(`${cluster.endpoint}/ui/new`);
          await kb.keyboard.type("ui-keys-1"); // the name field has the focus
          await kb.keyboard.press("Tab"); // image
          await kb.keyboard.press("Tab"); // cpu
          await kb.keyboard.press("Tab"); // memory
          await kb.keyboard.press("Tab"); // Start session
          await kb.keyboard.press("Enter");
          const id = await sessionIdFromUrl(kb);
          await kb.locator('#job-facts[data-status="RUNNING"]').waitFor({
            timeout: 120_000,
          });
          await tabTo(kb, "Stop session ui-keys-1");
          await kb.keyboard.press("Enter");
          await kb.waitForURL(`${cluster.endpoint}/ui/jobs/${id}`);
          await eventually("the keyboard session to end", async () => {
            const s = await cluster.json<{ status: string }>(
              "GET",
              `/session/${id}`,
              undefined,
              user,
            );
            return s.status === "TERMINATED" ? s : undefined;
          });
        },
      );
    } finally {
      await b?.close();
      await c?.stop();
    }
  },
});
