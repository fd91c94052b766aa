/**
 * A real headless Chromium for browser tests: Debian's `chromium` driven
 * by npm `playwright-core`. The launch flags keep Chromium off the network
 * (this machine refuses its background connections, and a test must not
 * depend on them); Playwright gives every launch a fresh profile
 * (`--user-data-dir` in a new temp dir, which it insists on creating
 * itself), and every `newContext()` has its own cookies.
 *
 * @example
 * ```ts ignore
 * const b = await launchBrowser();
 * const page = await b.newPage({ width: 1280, height: 800 });
 * await signIn(page, endpoint, creds);
 * await saveScreenshot(page, "jobs-1280x800");
 * await b.close();
 * ```
 *
 * @module
 */
import {
  type Browser,
  type BrowserContext,
  chromium,
  type Page,
} from "playwright-core";

/** Where Debian's chromium package puts the browser. */
export const CHROMIUM = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";

/** Flags that keep a headless Chromium quiet on a closed network. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** The two screen sizes every page is checked and photographed at. */
export const VIEWPORTS = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
} as const;

/** Why browser tests cannot run here, or undefined when they can. */
export function browserMissing(): string | undefined {
  try {
    Deno.statSync(CHROMIUM);
    return undefined;
  } catch {
    return `no Chromium at ${CHROMIUM} (apt-get install chromium; .ci/run does)`;
  }
}

/** A launched browser. */
export interface TestBrowser {
  browser: Browser;
  /** A new context (own cookies) with one page of the given size. */
  newPage(
    viewport?: { width: number; height: number },
  ): Promise<Page>;
  /** Every context opened so far. */
  contexts: BrowserContext[];
  close(): Promise<void>;
}

/** Launches headless Chromium. */
export async function launchBrowser(): Promise<TestBrowser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    headless: true,
    timeout: 60_000,
  });
  const contexts: BrowserContext[] = [];
  return {
    browser,
    contexts,
    async newPage(viewport = VIEWPORTS.desktop) {
      const ctx = await browser.newContext({ viewport });
      ctx.setDefaultTimeout(30_000);
      contexts.push(ctx);
      return await ctx.newPage();
    },
    async close() {
      await browser.close().catch(() => {});
    },
  };
}

/** Keypair credentials. */
export interface Creds {
  accessKey: string;
  secretKey: string;
}

/** Signs in through the form; resolves once the Summary shows. */
export async function signIn(
  page: Page,
  endpoint: string,
  creds: Creds,
): Promise<void> {
  await page.goto(`${endpoint}/ui/signin`);
  await page.getByLabel("Access key").fill(creds.accessKey);
  await page.getByLabel("Secret key").fill(creds.secretKey);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${endpoint}/ui`);
}

/**
 * Saves a full-page PNG as a test artifact under `UI_SCREENSHOTS` (default
 * `var/screenshots/`, git-ignored) and, when `UI_DOCS_SCREENSHOTS=1`, also
 * under `docs/screenshots/` for the README. Answers the artifact's path.
 */
export async function saveScreenshot(
  page: Page,
  name: string,
): Promise<string> {
  const root = new URL("../../", import.meta.url).pathname;
  const dirs = [Deno.env.get("UI_SCREENSHOTS") ?? `${root}var/screenshots`];
  if (Deno.env.get("UI_DOCS_SCREENSHOTS") === "1") {
    dirs.push(`${root}docs/screenshots`);
  }
  for (const dir of dirs) {
    await Deno.mkdir(dir, { recursive: true });
    await page.screenshot({ path: `${dir}/${name}.png`, fullPage: true });
  }
  return `${dirs[0]}/${name}.png`;
}

/** The CSRF token the page carries (what the dashboard's islands send). */
export async function csrfOf(page: Page): Promise<string> {
  const t = await page.locator('meta[name="csrf-token"]').getAttribute(
    "content",
  );
  if (!t) throw new Error("page has no CSRF token");
  return t;
}
