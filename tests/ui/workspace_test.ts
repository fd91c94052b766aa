/**
 * The dashboard's phase 2 in a real headless Chromium against a real
 * cluster (manager, agent and storage node processes, Docker kernels,
 * embedded Postgres): folders (create, upload with tus-js-client in the
 * browser and watch its progress finish, browse, download, delete), the
 * New session form's cost estimate as resources and mounts change, a
 * terminal running `echo $((6*7))`, suspend / resume from Jobs, a
 * statistics plot with data, cost settings that hold across a reload and
 * a manager restart, stop; and the defences: a file name with `<script>`
 * renders as text, the terminal socket refuses a missing cookie and a
 * foreign Origin. Screenshots of the pages at 1280×800 and 390×844.
 */
import { Buffer } from "node:buffer";
import type { Page } from "playwright-core";
import { startCluster, type TestCluster } from "../support/cluster.ts";
import { startStorageNode, type StorageProc } from "../support/storage.ts";
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
if (missing) console.log(`tests/ui/workspace_test.ts skipped: ${missing}`);

const FOLDER = "ui-data";
const SESSION = "ui-work-1";
/** A file name a browser can hand over (no slash), markup inside. */
const XSS_FILE =
  `<script>globalThis.__xss='file'<script><img src=x onerror="globalThis.__xss=2">.txt`;
/** Prices of the default group: 0.5 a core-hour, 0.1 a GiB-hour. */
const PRICES = { cpuCoreHour: 0.5, memGiBHour: 0.1, deviceHour: {} };

function bytes(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + 7) & 0xff;
  return b;
}

async function cookieOf(page: Page): Promise<string> {
  const k = (await page.context().cookies()).find((c) => c.name === "bai_ui");
  if (!k) throw new Error("not signed in");
  return `bai_ui=${k.value}`;
}

/**
 * The status line of a WebSocket handshake sent by hand, so the test
 * chooses the `Origin` and `Cookie` a browser would never let it forge.
 */
async function upgradeStatus(
  port: number,
  path: string,
  headers: Record<string, string>,
): Promise<number> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const lines = [
      `GET ${path} HTTP/1.1`,
      `Host: 127.0.0.1:${port}`,
      "Upgrade: websocket",
      "Connection: Upgrade",
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
      "Sec-WebSocket-Version: 13",
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
      "",
      "",
    ];
    await conn.write(new TextEncoder().encode(lines.join("\r\n")));
    const buf = new Uint8Array(512);
    let text = "";
    const deadline = Date.now() + 30_000;
    while (!text.includes("\r\n") && Date.now() < deadline) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
    const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
    if (!m) throw new Error(`no status line: ${JSON.stringify(text)}`);
    return Number(m[1]);
  } finally {
    try {
      conn.close();
    } catch { /* closed by the server */ }
  }
}

/** Uploads `files` through the folder page's form; resolves once the island says done. */
async function uploadThroughPage(
  page: Page,
  file: { name: string; buffer: Uint8Array },
): Promise<string[]> {
  // Every status line the island writes, to see progress between 0 and 100 %.
  await page.evaluate(`(() => {
    globalThis.__progress = [];
    const el = document.getElementById("upload-status");
    new MutationObserver(() => globalThis.__progress.push(el.textContent))
      .observe(el, { childList: true, characterData: true, subtree: true });
  })()`);
  await page.getByLabel("File to upload").setInputFiles({
    name: file.name,
    mimeType: "application/octet-stream",
    buffer: Buffer.from(file.buffer),
  });
  await page.getByRole("button", { name: "Upload", exact: true }).click();
  await page.locator('#upload-form[data-state="done"]').waitFor({
    timeout: 60_000,
  });
  return await page.evaluate<string[]>("globalThis.__progress");
}

/** Page-level checks every screenshot gets: nothing wider than the screen, every field labelled. */
async function checkAndShoot(
  p: Page,
  shot: string,
  size: { width: number; height: number },
): Promise<void> {
  const overflow = await p.evaluate<number>(
    "document.documentElement.scrollWidth - innerWidth",
  );
  assert(overflow <= 1, `${shot} at ${size.width}: ${overflow}px too wide`);
  const unlabelled = await p.evaluate<string[]>(
    `[...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
      .filter((el) => el.labels.length === 0 && !el.getAttribute("aria-label")
        && !el.closest(".xterm"))
      .map((el) => el.name || el.id)`,
  );
  assertEquals(unlabelled, [], `${shot}: fields without a label`);
  await saveScreenshot(p, `${shot}-${size.width}x${size.height}`);
}

Deno.test({
  name: "dashboard folders, terminal and cost in a real browser",
  ignore: missing !== undefined,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    let c: TestCluster | undefined;
    let b: TestBrowser | undefined;
    let storage: StorageProc | undefined;
    try {
      c = await startCluster({ agents: 1, agentArgs: () => ["--cpu", "4"] });
      storage = await startStorageNode(c);
      const storageUrl = storage.url;
      b = await launchBrowser();
      const cluster = c;
      const browser = b;
      const base = cluster.endpoint;
      await cluster.json(
        "PUT",
        "/x/admin/scaling-groups/default/prices",
        PRICES,
      );
      const user: Credentials = await cluster.newKeypair();
      const other: Credentials = await cluster.newKeypair();
      const page = await browser.newPage(VIEWPORTS.desktop);
      await signIn(page, base, user);
      let sessionId = "";
      const payload = bytes(3 * 1024 * 1024 + 321);

      await t.step("create a folder from the Folders page", async () => {
        await page.getByRole("link", { name: "Folders", exact: true }).click();
        await page.getByLabel("Folder name").fill(FOLDER);
        await page.getByRole("button", { name: "Create folder" }).click();
        await page.waitForURL(`${base}/ui/folders/${FOLDER}`);
        await page.getByRole("heading", { name: `Folder ${FOLDER}` }).waitFor();
        const listed = await cluster.json<{ name: string }[]>(
          "GET",
          "/folders",
          undefined,
          user,
        );
        assert(listed.some((f) => f.name === FOLDER), "the API lists it");
      });

      await t.step(
        "upload a file with tus and see its progress finish",
        async () => {
          const res = await page.goto(`${base}/ui/folders/${FOLDER}`);
          // The page may reach the storage node, and only it, besides itself.
          const csp = res?.headers()["content-security-policy"] ?? "";
          assertMatch(
            csp,
            new RegExp(
              `connect-src 'self' ${storageUrl.replace(/\./g, "\\.")}`,
            ),
          );
          const seen = await uploadThroughPage(page, {
            name: "blob.bin",
            buffer: payload,
          });
          const percents = seen.map((s) => Number(/(\d+) %/.exec(s)?.[1]))
            .filter((n) => Number.isFinite(n));
          assert(
            percents.some((p) => p > 0 && p < 100),
            `progress between 0 and 100 %: ${JSON.stringify(seen)}`,
          );
          assertEquals(
            await page.evaluate<number>(
              `document.getElementById("upload-progress").value`,
            ),
            100,
          );
          assertMatch(
            (await page.locator("#upload-status").textContent()) ?? "",
            /Upload finished: blob\.bin/,
          );
          // The listing was swapped in with the new file.
          const row = page.locator('#files tr[data-file="blob.bin"]');
          await row.waitFor();
          assertEquals(
            (await row.locator('[data-label="Size"]').textContent())?.trim(),
            "3 MB",
          );
          // The token URL stayed out of the page's storage.
          assertEquals(
            await page.evaluate<string>("JSON.stringify(localStorage)"),
            "{}",
          );
        },
      );

      await t.step("download it, byte for byte", async () => {
        const [download] = await Promise.all([
          page.waitForEvent("download"),
          page.getByRole("link", { name: "Download blob.bin" }).click(),
        ]);
        const path = await download.path();
        const got = await Deno.readFile(path!);
        assertEquals(got.byteLength, payload.byteLength);
        assert(got.every((v, i) => v === payload[i]), "same bytes");
      });

      await t.step("a file name with <script> renders as text", async () => {
        await page.goto(`${base}/ui/folders/${FOLDER}`);
        await uploadThroughPage(page, {
          name: XSS_FILE,
          buffer: bytes(100),
        });
        await page.reload();
        const cell = page.locator("#files .fname", { hasText: "<script>" });
        assertEquals(await cell.textContent(), XSS_FILE);
        assertEquals(await page.evaluate("globalThis.__xss"), undefined);
        assertEquals(
          await page.locator("#files script, #files img").count(),
          0,
        );
      });

      await t.step(
        "browse into a new directory and delete a file",
        async () => {
          await page.getByLabel("Directory name").fill("results");
          await page.getByRole("button", { name: "Create directory" }).click();
          await page.getByRole("link", { name: "results/" }).click();
          await page.waitForURL(/\?path=results$/);
          await page.getByText("This directory is empty.").waitFor();
          await page.getByRole("link", { name: FOLDER }).click();
          await page.getByRole("button", { name: `Delete ${XSS_FILE}` })
            .click();
          await page.waitForURL(`${base}/ui/folders/${FOLDER}`);
          assertEquals(
            await page.locator("#files .fname", { hasText: "<script>" })
              .count(),
            0,
          );
        },
      );

      await t.step(
        "start a session from the form and see the estimate follow resources and mounts",
        async () => {
          await page.goto(`${base}/ui/new`);
          // 1 core and 1 GiB: 0.5 + 0.1 an hour.
          await page.getByLabel("Image").selectOption("python");
          await page.getByLabel("CPU cores").fill("1");
          await page.getByLabel("Memory (GB)").fill("1");
          await eventually(
            "the first estimate",
            async () =>
              (await page.locator("#estimate-hour").textContent()) === "0.60"
                ? true
                : undefined,
          );
          assertEquals(
            await page.locator("#estimate-day").textContent(),
            "14.40",
          );
          await page.getByLabel("CPU cores").fill("2");
          await eventually(
            "the estimate for 2 cores",
            async () =>
              (await page.locator("#estimate-hour").textContent()) === "1.10"
                ? true
                : undefined,
          );
          await page.getByLabel(FOLDER).check();
          await eventually(
            "the estimate to name the mount",
            async () =>
              /Mounts ui-data/.test(
                  (await page.locator("#estimate-mounts").textContent()) ?? "",
                )
                ? true
                : undefined,
          );
          await page.getByLabel("Session name (optional)").fill(SESSION);
          await page.getByRole("button", { name: "Start session" }).click();
          await page.waitForURL(/\/ui\/jobs\/[0-9a-f-]{36}$/);
          sessionId = page.url().split("/").at(-1)!;
          await page.locator('#job-facts[data-status="RUNNING"]').waitFor({
            timeout: 120_000,
          });
          // The folder is mounted in the work dir.
          await page.locator("#files .fname", { hasText: FOLDER }).waitFor();
          const info = await cluster.json<{ occupiedSlots: { cpu: unknown } }>(
            "GET",
            `/session/${SESSION}`,
            undefined,
            user,
          );
          assertEquals(Number(info.occupiedSlots.cpu), 2);
        },
      );

      await t.step("open its terminal and run echo $((6*7))", async () => {
        await page.getByRole("button", { name: "Open terminal" }).click();
        await page.locator('#terminal[data-state="open"]').waitFor({
          timeout: 30_000,
        });
        const rows = page.locator("#terminal .xterm-rows");
        await eventually(
          "a prompt",
          async () =>
            /\$\s*$/m.test((await rows.innerText()) ?? "") ? true : undefined,
        );
        await page.keyboard.type("echo $((6*7))");
        await page.keyboard.press("Enter");
        const screen = await eventually("42 on the terminal", async () => {
          const text = await rows.innerText();
          return /^42\s*$/m.test(text) ? text : undefined;
        });
        assertMatch(screen, /echo \$\(\(6\*7\)\)/);
        await checkAndShoot(page, "job-terminal", VIEWPORTS.desktop);
      });

      await t.step(
        "a terminal the server refuses says so on the page",
        async () => {
          const p = await browser.newPage(VIEWPORTS.desktop);
          await p.context().addCookies(await page.context().cookies());
          await p.goto(`${base}/ui/jobs/${sessionId}`);
          // A session that is not there: the upgrade is refused (404), and
          // the browser shows the page no answer, only a close.
          await p.locator("#terminal").evaluate((el) =>
            (el as unknown as { dataset: Record<string, string> }).dataset
              .socket = "/ui/jobs/00000000-0000-4000-8000-000000000000/terminal"
          );
          await p.getByRole("button", { name: "Open terminal" }).click();
          await p.locator('#terminal[data-state="closed"]').waitFor();
          assertEquals(
            await p.locator("#terminal-status").textContent(),
            "The terminal could not be opened; try again in a moment.",
          );
          await p.close();
        },
      );

      await t.step(
        "the terminal socket refuses a missing cookie and a foreign Origin",
        async () => {
          const path = `/ui/jobs/${sessionId}/terminal`;
          const cookie = await cookieOf(page);
          const origin = base;
          assertEquals(
            await upgradeStatus(cluster.port, path, { Origin: origin }),
            401,
            "no cookie",
          );
          assertEquals(
            await upgradeStatus(cluster.port, path, {
              Origin: "http://evil.example",
              Cookie: cookie,
            }),
            403,
            "foreign Origin",
          );
          assertEquals(
            await upgradeStatus(cluster.port, path, { Cookie: cookie }),
            403,
            "no Origin",
          );
          const otherPage = await browser.newPage(VIEWPORTS.desktop);
          await signIn(otherPage, base, other);
          assertEquals(
            await upgradeStatus(cluster.port, path, {
              Origin: origin,
              Cookie: await cookieOf(otherPage),
            }),
            404,
            "another keypair's cookie",
          );
          // The same request with its own cookie and Origin opens (the control).
          assertEquals(
            await upgradeStatus(cluster.port, path, {
              Origin: origin,
              Cookie: cookie,
            }),
            101,
          );
        },
      );

      await t.step("suspend and resume from Jobs", async () => {
        await page.goto(`${base}/ui/jobs`);
        const row = page.locator(`#job-${sessionId}`);
        assertMatch(
          (await row.locator(`[data-cost-of="${sessionId}"]`).textContent()) ??
            "",
          /^\d+\.\d+$/,
        );
        await page.getByRole("button", { name: `Suspend session ${SESSION}` })
          .click();
        await page.waitForURL(`${base}/ui/jobs`);
        await page.locator(`#job-${sessionId}[data-status="SUSPENDED"]`)
          .waitFor({ timeout: 60_000 });
        const s = await cluster.json<{ status: string }>(
          "GET",
          `/session/${sessionId}`,
          undefined,
          user,
        );
        assertEquals(s.status, "SUSPENDED");
        await page.getByRole("button", { name: `Resume session ${SESSION}` })
          .click();
        await page.waitForURL(`${base}/ui/jobs`);
        await page.locator(`#job-${sessionId}[data-status="RUNNING"]`)
          .waitFor({ timeout: 60_000 });
      });

      await t.step("open Jupyter through the app proxy", async () => {
        const jup = await cluster.json<{ sessionId: string }>(
          "POST",
          "/session",
          { image: "python-jupyter", name: "ui-jupyter-1" },
          other,
        );
        const p = await browser.newPage(VIEWPORTS.desktop);
        await signIn(p, base, other);
        await p.goto(`${base}/ui/jobs/${jup.sessionId}`);
        await p.locator('#job-facts[data-status="RUNNING"]').waitFor({
          timeout: 120_000,
        });
        const [tab] = await Promise.all([
          p.context().waitForEvent("page", { timeout: 120_000 }),
          p.getByRole("button", { name: "Open Jupyter" }).click(),
        ]);
        await tab.waitForLoadState("load", { timeout: 120_000 });
        // The link token was traded for the proxy's cookie: a clean URL, Jupyter's own page.
        assertMatch(
          tab.url(),
          new RegExp(`/x/apps/${jup.sessionId}/jupyter/tree`),
        );
        assert(!tab.url().includes("token="), tab.url());
        assertMatch(await tab.title(), /Home Page/);
        await cluster.json(
          "DELETE",
          `/session/${jup.sessionId}`,
          undefined,
          other,
        );
      });

      await t.step("a statistics plot renders with data", async () => {
        await page.getByRole("link", { name: "Statistics", exact: true })
          .click();
        await page.locator("#cost-chart .uplot canvas").waitFor();
        assertEquals(
          await page.locator("#cost-chart").getAttribute("data-nonzero"),
          "true",
        );
        assertEquals(
          await page.locator("#usage-days-chart").getAttribute("data-nonzero"),
          "true",
        );
        const row = page.locator(
          `#stats-sessions tr[data-session-id="${sessionId}"]`,
        );
        assertMatch(
          (await row.locator('[data-label="Cost"]').textContent()) ?? "",
          /^\d+\.\d+$/,
        );
        assert(
          Number(await page.locator("#stats-total").textContent()) > 0,
          "a total above zero",
        );
      });

      await t.step("Summary: storage used and today's cost", async () => {
        await page.goto(`${base}/ui`);
        assertMatch(
          (await page.locator("#storage-used").textContent()) ?? "",
          /^[1-9][\d.]* (KB|MB)$/,
        );
        assertMatch(
          (await page.locator('[data-cost-today="spent"]').textContent()) ??
            "",
          /^\d+\.\d+$/,
        );
      });

      await t.step(
        "settings persist across a reload and a manager restart",
        async () => {
          await page.goto(`${base}/ui/settings`);
          await page.getByLabel("Daily cost limit").fill("5");
          await page.getByLabel("When the limit is reached").selectOption(
            "terminate",
          );
          await page.getByLabel("Maintain workload in the selected cost")
            .check();
          await page.getByLabel("Pause idle sessions automatically").check();
          await page.getByLabel("Idle pause time (minutes)").fill("15");
          await page.getByRole("button", { name: "Save settings" }).click();
          await page.locator("#settings-saved").waitFor();
          const expectSaved = async () => {
            assertEquals(
              await page.getByLabel("Daily cost limit").inputValue(),
              "5",
            );
            assertEquals(
              await page.getByLabel("When the limit is reached").inputValue(),
              "terminate",
            );
            assert(
              await page.getByLabel("Maintain workload in the selected cost")
                .isChecked(),
            );
            assert(
              await page.getByLabel("Pause idle sessions automatically")
                .isChecked(),
            );
            assertEquals(
              await page.getByLabel("Idle pause time (minutes)").inputValue(),
              "15",
            );
          };
          await page.reload();
          await expectSaved();
          await cluster.restartManager();
          // The storage node dials the new manager again (later pages need it).
          await eventually("the storage node to rejoin", async () => {
            const h = await cluster.json<{ allowed: string[] }>(
              "GET",
              "/folders/_/hosts",
            );
            return h.allowed.includes("local") ? true : undefined;
          }, 60_000);
          // And the agent (the session's terminal later needs its kernel):
          // on a loaded machine its rejoin can come after the page's.
          await eventually("the session's kernel to answer again", async () => {
            const r = await cluster.api("POST", `/session/${sessionId}`, {
              mode: "query",
              code: "print(1)",
              runId: null,
            }, user);
            const body = await r.json().catch(() => null);
            return body?.result?.status === "finished" ? true : undefined;
          }, 60_000);
          await page.reload();
          await page.getByRole("heading", { name: "Settings" }).waitFor();
          await expectSaved();
          const api = await cluster.json<Record<string, unknown>>(
            "GET",
            "/x/cost/settings",
            undefined,
            user,
          );
          assertEquals(api.dailyCostLimit, 5);
          assertEquals(api.idlePauseSeconds, 900);
          assertEquals(api.action, "terminate");
          assertEquals(api.maintain, true);
          // The Summary measures today against the new limit.
          await page.goto(`${base}/ui`);
          assertEquals(
            await page.locator('[data-cost-today="limit"]').textContent(),
            "of 5.00",
          );
        },
      );

      await t.step(
        "the daily limit stays within what the keypair's policy allows",
        async () => {
          await cluster.json("PUT", "/x/admin/resource-policies/ui-capped", {
            maxConcurrentSessions: 2,
            dailyCostLimit: 10,
          });
          const capped = await cluster.newKeypair({
            resourcePolicy: "ui-capped",
          });
          const p = await browser.newPage(VIEWPORTS.desktop);
          await signIn(p, base, capped);
          await p.goto(`${base}/ui/settings`);
          const limit = p.getByLabel("Daily cost limit");
          assertEquals(await limit.getAttribute("max"), "10");
          await limit.fill("11");
          // The browser holds the form back (the field's bound is the policy's) ...
          assert(
            await limit.evaluate((el) =>
              (el as unknown as { validity: { rangeOverflow: boolean } })
                .validity.rangeOverflow
            ),
          );
          // ... and the server refuses it when sent anyway.
          await limit.evaluate((el) => el.removeAttribute("max"));
          await p.getByRole("button", { name: "Save settings" }).click();
          assertMatch(
            (await p.locator("#settings-error").textContent()) ?? "",
            /at most 10\.00/,
          );
          const api = await cluster.json<{ dailyCostLimit: unknown }>(
            "GET",
            "/x/cost/settings",
            undefined,
            capped,
          );
          assertEquals(api.dailyCostLimit, null, "nothing was stored");
        },
      );

      await t.step("screenshots of the pages at both sizes", async () => {
        const admin = await browser.newPage(VIEWPORTS.desktop);
        await signIn(admin, base, cluster.admin);
        const userPages: [string, string][] = [
          ["summary", "/ui"],
          ["new-session", "/ui/new"],
          ["folders", "/ui/folders"],
          ["folder", `/ui/folders/${FOLDER}`],
          ["statistics", "/ui/stats"],
          ["settings", "/ui/settings"],
        ];
        const adminPages: [string, string][] = [
          ["scaling-groups", "/ui/admin/scaling-groups"],
        ];
        for (const size of Object.values(VIEWPORTS)) {
          for (
            const [p, list] of [[page, userPages], [admin, adminPages]] as const
          ) {
            await p.setViewportSize(size);
            for (const [shot, path] of list) {
              const res = await p.goto(base + path);
              assertEquals(res?.status(), 200, path);
              await p.locator("main h1").waitFor();
              if (shot === "statistics") {
                await p.locator("#cost-chart .uplot canvas").waitFor();
              }
              await checkAndShoot(p, shot, size);
            }
          }
        }
        await page.setViewportSize(VIEWPORTS.phone);
        await page.goto(`${base}/ui/jobs/${sessionId}`);
        await page.getByRole("button", { name: "Open terminal" }).click();
        await page.locator('#terminal[data-state="open"]').waitFor().catch(
          async (e) => {
            const state = await page.locator("#terminal").getAttribute(
              "data-state",
            );
            const said = await page.locator("main").innerText();
            throw new Error(`terminal ${state}: ${said}`, { cause: e });
          },
        );
        await page.keyboard.type("echo $((6*7))");
        await page.keyboard.press("Enter");
        await eventually(
          "42 on the phone's terminal",
          async () =>
            /^42\s*$/m.test(
                await page.locator("#terminal .xterm-rows").innerText(),
              )
              ? true
              : undefined,
        );
        await checkAndShoot(page, "job-terminal", VIEWPORTS.phone);
        await page.setViewportSize(VIEWPORTS.desktop);
        // An operator drains the agent: its row says who, why and since when.
        await admin.setViewportSize(VIEWPORTS.desktop);
        await admin.goto(`${base}/ui/admin/agents`);
        await admin.getByRole("button", { name: /^Drain agent/ }).click();
        try {
          await admin.waitForURL(`${base}/ui/admin/agents`);
          // statusInfo says who and why; the view adds since when.
          await admin.getByText("drained by an administrator", { exact: false })
            .waitFor();
          await admin.getByText("Draining since", { exact: false }).waitFor();
          for (const size of Object.values(VIEWPORTS)) {
            await admin.setViewportSize(size);
            await admin.reload();
            await checkAndShoot(admin, "agents", size);
          }
          await admin.setViewportSize(VIEWPORTS.desktop);
          await admin.getByRole("button", { name: /^Undrain agent/ }).click();
          await admin.waitForURL(`${base}/ui/admin/agents`);
          await admin.getByRole("button", { name: /^Drain agent/ }).waitFor();
        } finally {
          // A manager whose agent is left drained has hung at stop (see the report).
          await cluster.api(
            "POST",
            `/x/admin/agents/${cluster.agents[0].id}/undrain`,
          ).then((r) => r.body?.cancel());
        }
      });

      await t.step("stop the session", async () => {
        await page.goto(`${base}/ui/jobs/${sessionId}`);
        await page.getByRole("button", { name: `Stop session ${SESSION}` })
          .click();
        await eventually("the session to end", async () => {
          const s = await cluster.json<{ status: string }>(
            "GET",
            `/session/${sessionId}`,
            undefined,
            user,
          );
          return s.status === "TERMINATED" ? s : undefined;
        });
      });
    } finally {
      await b?.close();
      await storage?.kill();
      await c?.stop();
    }
  },
});
