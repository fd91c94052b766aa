/**
 * Interactive sessions end to end (issue 13), one real cluster (manager,
 * embedded Postgres, one agent, real Docker kernels of the built
 * `python-jupyter` image, which keeps `--network none`):
 *
 * - service ports in the create reply, `GET /session`, `/stream/.../apps`;
 * - terminals over `/stream/session/{ref}/pty` (Backend.AI's frames):
 *   `echo $((6*7))`, resize, Ctrl-C, several at once, the kernel's limits,
 *   a SUSPENDED session resumed by opening one, restart and destroy ending
 *   them; the same through the real Python SDK's `stream_pty`;
 * - `backend.ai app SESSION jupyter -b 127.0.0.1:PORT` (the real CLI) and
 *   Jupyter's `/api` answered through that local port; a preopen port
 *   through `/tcpproxy`;
 * - the browser app proxy's tokens (another session, another keypair,
 *   forged, expired, a deactivated keypair) and a real headless Chromium
 *   running `print(6*7)` in a new notebook through it (screenshot saved).
 *
 * Needs Docker and `deno task images build python-jupyter`; the Python
 * client and Chromium parts skip, saying why, when those are missing.
 */
import { startCluster, type TestCluster } from "./support/cluster.ts";
import { assert, assertEquals, assertMatch } from "./support/assert.ts";
import { signedWebSocket, Terminal } from "./support/terminal.ts";
import { pythonClient } from "./support/python_client.ts";
import {
  browserMissing,
  launchBrowser,
  saveScreenshot,
} from "./support/browser.ts";
import { dockerSkipReason } from "./fixtures/agent_docker.ts";
import { freePort } from "./support/ports.ts";
import { imageMissing } from "./support/images.ts";

const skip = dockerSkipReason ?? await imageMissing("python-jupyter");
if (skip) console.log(`interactive_test skipped: ${skip}`);

/** Status and body of a request, body cancelled when not read. */
async function statusOf(res: Response): Promise<number> {
  await res.body?.cancel();
  return res.status;
}

/** Runs `code` in query mode in the session and waits for it to finish. */
async function query(c: TestCluster, ref: string, code: string) {
  const r = await c.json<{ result: { status: string } }>(
    "POST",
    `/session/${ref}`,
    { mode: "query", code, runId: crypto.randomUUID() },
  );
  assertEquals(r.result.status, "finished");
}

Deno.test({
  name: "interactive sessions: terminals, app tunnels and Jupyter in a browser",
  ignore: skip !== undefined,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const c = await startCluster({ agents: 1 });
    const terminals: Terminal[] = [];
    const pty = async (ref: string) => {
      const term = await Terminal.open(c, `/stream/session/${ref}/pty`);
      terminals.push(term);
      return term;
    };
    try {
      const created = await c.json<
        { sessionId: string; servicePorts: unknown[] }
      >("POST", "/session", {
        image: "python-jupyter",
        name: "ia-jup",
        config: { preopen_ports: [9000] },
      });
      const sid = created.sessionId;

      await t.step(
        "service ports: create reply, GET /session and /apps",
        async () => {
          const ports = [
            {
              name: "jupyter",
              protocol: "http",
              container_ports: [8080],
              host_ports: [null],
            },
            {
              name: "9000",
              protocol: "preopen",
              container_ports: [9000],
              host_ports: [null],
            },
          ];
          assertEquals(created.servicePorts, ports);
          const info = await c.json<{ servicePorts: unknown }>(
            "GET",
            "/session/ia-jup",
          );
          assertEquals(info.servicePorts, ports);
          assertEquals(
            await c.json<unknown>("GET", "/stream/session/ia-jup/apps"),
            [
              {
                name: "jupyter",
                protocol: "http",
                ports: [8080],
                url_template: `http://{host}:{port}/x/apps/${sid}/jupyter/`,
              },
              { name: "9000", protocol: "preopen", ports: [9000] },
            ],
          );
        },
      );

      await t.step(
        "a terminal: 42, resize, Ctrl-C, two shells at once",
        async () => {
          const a = await pty("ia-jup");
          a.type("echo $((6*7))\r");
          // A line the shell printed (the typed command's echo has `$((6*7))`).
          await a.waitFor(/[\r\n]42\r\n/);
          assertEquals((await a.run("id -un; pwd")).trim(), "work\n/home/work");
          a.resize(40, 100);
          assertEquals((await a.run("stty size")).trim(), "40 100");
          // Ctrl-C reaches the foreground process through the terminal.
          const before = a.text.length;
          a.type("sleep 100\r");
          await new Promise((r) => setTimeout(r, 700));
          a.type("\x03");
          await a.waitFor(/\^C/, 5_000, before);
          a.type("echo status=$?\r");
          await a.waitFor(/[\r\n]status=130\r\n/, 5_000, before);

          const b = await pty("ia-jup");
          b.type("export WHO=second\r");
          assertEquals(
            (await b.run("echo $WHO; tty")).split("\n")[0],
            "second",
          );
          assertEquals((await a.run('echo "[$WHO]"')).trim(), "[]");
          assert(
            (await a.run("tty")).trim() !== (await b.run("tty")).trim(),
            "each terminal has its own pty",
          );
          // Closing one socket ends that shell only.
          b.close();
          await b.closed;
          assertEquals((await a.run("echo still")).trim(), "still");
          const info = await c.json<{ status: string }>(
            "GET",
            "/session/ia-jup",
          );
          assertEquals(info.status, "RUNNING");
          a.type("exit 7\r");
          assertEquals(await a.closed, { code: 1000, reason: "exit 7" });
        },
      );

      await t.step("a terminal cannot escape the kernel's limits", async () => {
        const term = await pty("ia-jup");
        assertEquals((await term.run("id -u")).trim(), "1000");
        assertMatch(
          await term.run(
            "grep -E '^(CapEff|CapPrm|NoNewPrivs)' /proc/self/status",
          ),
          /CapPrm:\s+0000000000000000\nCapEff:\s+0000000000000000\nNoNewPrivs:\s+1/,
        );
        // No network: only the loopback interface exists.
        assertEquals(
          (await term.run("ls /sys/class/net")).trim().split(/\s+/),
          ["lo"],
        );
        assertMatch(
          await term.run(
            "python3 -c \"import socket; socket.create_connection(('1.1.1.1', 53), 3)\" 2>&1 | tail -1",
          ),
          /Network is unreachable|No route/,
        );
        assertMatch(
          await term.run("touch /etc/x 2>&1"),
          /Read-only file system|Permission denied/,
        );
        term.close();
      });

      await t.step(
        "bad frames and bad requests are refused, the terminal lives on",
        async () => {
          const term = await pty("ia-jup");
          term.ws.send("not json");
          term.ws.send(JSON.stringify({ type: "stdin", chars: "%%%" }));
          term.ws.send(JSON.stringify({ type: "resize", rows: "x" }));
          term.ws.send(
            JSON.stringify({ type: "stdin", chars: "A".repeat(600_000) }),
          );
          term.ws.send(new Uint8Array([1, 2, 3]));
          assertEquals((await term.run("echo alive")).trim(), "alive");
          assertEquals(
            term.other.map((f) => f.type),
            ["error", "error", "error", "error"],
          );
          term.close();
          // Refused before any upgrade: plain HTTP problems.
          assertEquals(
            await statusOf(await c.api("GET", "/stream/session/ia-jup/pty")),
            400,
          );
          for (
            const target of [
              "/stream/session/no-such-session/pty",
              "/stream/session/ia-jup/tcpproxy?app=nope",
            ]
          ) {
            const why = await signedWebSocket(c, target).then(
              (ws) => (ws.close(), "opened"),
              (e: Error) => e.message,
            );
            assertMatch(why, /refused/, target);
          }
        },
      );

      await t.step("a SUSPENDED session resumes for a terminal", async () => {
        const s = await c.json<{ status: string }>(
          "POST",
          "/x/session/ia-jup/suspend",
        );
        assertEquals(s.status, "SUSPENDED");
        const term = await pty("ia-jup");
        assertEquals((await term.run("echo awake")).trim(), "awake");
        const info = await c.json<{ status: string }>("GET", "/session/ia-jup");
        assertEquals(info.status, "RUNNING");
        term.close();
      });

      const py = await pythonClient();
      await t.step({
        name: "the real Python SDK's stream_pty drives a terminal",
        ignore: typeof py === "string",
        fn: async () => {
          if (typeof py === "string") return;
          const r = await py.sdk(
            c.admin,
            c.endpoint,
            `
import asyncio, base64, json, re
from ai.backend.client.session import AsyncSession
async def main():
    async with AsyncSession() as api:
        cs = api.ComputeSession("ia-jup")
        async with cs.stream_pty() as stream:
            # Not stream.resize(): 22.03.2's StreamPty.resize uses an attribute it never sets.
            await stream.send_str(json.dumps({"type": "resize", "rows": 30, "cols": 90}))
            cmd = b"stty size; echo $((6*7))\\r"
            await stream.send_str(json.dumps({"type": "stdin", "chars": base64.b64encode(cmd).decode()}))
            await stream.send_str(json.dumps({"type": "ping"}))
            buf = b""
            async for msg in stream:
                frame = json.loads(msg.data)
                if frame["type"] == "out":
                    buf += base64.b64decode(frame["data"])
                if re.search(rb"[\\r\\n]42\\r\\n", buf) and b"30 90" in buf:
                    print("GOT 42 AT 30x90")
                    break
asyncio.run(asyncio.wait_for(main(), 60))
`,
          );
          assert(r.stdout.includes("GOT 42 AT 30x90"), r.output);
        },
      });
      if (typeof py === "string") console.log(`python parts skipped: ${py}`);

      await t.step({
        name:
          "backend.ai app ia-jup jupyter -b 127.0.0.1:PORT reaches Jupyter's /api",
        ignore: typeof py === "string",
        fn: async () => {
          if (typeof py === "string") return;
          const port = freePort();
          const stop = new AbortController();
          const running = py.cli(c.admin, c.endpoint, [
            "app",
            "ia-jup",
            "jupyter",
            "-b",
            `127.0.0.1:${port}`,
          ], { signal: stop.signal, timeoutMs: 180_000 });
          try {
            let body = "";
            const deadline = Date.now() + 90_000;
            while (Date.now() < deadline) {
              try {
                const res = await fetch(
                  `http://127.0.0.1:${port}/x/apps/${sid}/jupyter/api`,
                );
                body = await res.text();
                if (res.ok) break;
              } catch { /* not listening yet */ }
              await new Promise((r) => setTimeout(r, 300));
            }
            assertMatch(body, /"version":\s*"6\.\d+\.\d+"/);
            // A second connection through the same local port (one socket each).
            const again = await fetch(
              `http://127.0.0.1:${port}/x/apps/${sid}/jupyter/api/status`,
            );
            assertEquals(again.status, 200);
            assertMatch(await again.text(), /"kernels"/);
          } finally {
            stop.abort();
          }
          const out = await running;
          assertMatch(
            out.output,
            new RegExp(`http://127\\.0\\.0\\.1:${port}/x/apps/${sid}/jupyter/`),
          );
        },
      });

      await t.step("a preopen port through /tcpproxy", async () => {
        await query(
          c,
          "ia-jup",
          "import subprocess, socket, time\n" +
            "subprocess.Popen(['python3', '-c', \"import socket\\ns=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', 9000)); s.listen()\\nwhile True:\\n c,_=s.accept(); d=c.recv(1024); c.sendall(b'echo:'+d); c.close()\"], start_new_session=True)\n" +
            "for _ in range(100):\n" +
            "    try:\n        socket.create_connection(('127.0.0.1', 9000), 1).close(); break\n" +
            "    except OSError:\n        time.sleep(0.1)\n",
        );
        const ws = await signedWebSocket(
          c,
          "/stream/session/ia-jup/tcpproxy?app=9000",
        );
        const got: Uint8Array[] = [];
        const closed = new Promise<CloseEvent>((r) => (ws.onclose = r));
        ws.onmessage = (e) => got.push(new Uint8Array(e.data as ArrayBuffer));
        ws.send(new TextEncoder().encode("hello"));
        const end = await closed;
        assertEquals(
          new TextDecoder().decode(new Uint8Array(got.flatMap((b) => [...b]))),
          "echo:hello",
        );
        assertEquals(
          end.code,
          1000,
          "the server's close ends the socket cleanly",
        );
        const unknown = await c.api(
          "GET",
          "/stream/session/ia-jup/tcpproxy?app=nope",
          undefined,
        );
        assertEquals(await statusOf(unknown), 400, "not an upgrade: 400 first");
      });

      const bob = await c.newKeypair();
      const other = await c.json<{ sessionId: string }>("POST", "/session", {
        image: "python",
        name: "ia-bob",
        config: { preopen_ports: [9000] },
      }, bob);

      await t.step(
        "app proxy tokens: bound to keypair, session and app; they expire",
        async () => {
          const token = async (
            ref: string,
            app: string,
            creds = c.admin,
            ttl?: number,
          ) =>
            await c.json<{ url: string; token: string; expiresAt: number }>(
              "POST",
              `/x/session/${ref}/apps/${app}/token`,
              ttl ? { ttl } : {},
              creds,
            );
          const enter = (url: string) => fetch(url, { redirect: "manual" });

          const mine = await token("ia-jup", "jupyter");
          // Apps live on an origin of their own (a port of their own here),
          // so an app's scripts cannot reach the dashboard's pages.
          const appOrigin = new URL(mine.url).origin;
          assert(appOrigin !== c.endpoint, `apps on ${appOrigin}`);
          const base = `${appOrigin}/x/apps/${sid}/jupyter/`;
          assertEquals(
            mine.url,
            `${base}?token=${encodeURIComponent(mine.token)}`,
          );
          const res = await enter(mine.url);
          assertEquals(await statusOf(res), 303);
          assertEquals(res.headers.get("location"), `/x/apps/${sid}/jupyter/`);
          const setCookie = res.headers.get("set-cookie") ?? "";
          assertMatch(setCookie, new RegExp(`Path=/x/apps/${sid}/jupyter/;`));
          assertMatch(setCookie, /HttpOnly/);
          assertMatch(setCookie, /SameSite=Lax/);
          const cookie = setCookie.split(";")[0];
          const api = await fetch(`${base}api`, { headers: { cookie } });
          assertEquals(api.status, 200);
          assertMatch(await api.text(), /"version"/);
          // The API's origin does not serve apps, and the apps' origin
          // serves nothing else (the dashboard least of all).
          assertEquals(
            await statusOf(
              await fetch(`${c.endpoint}/x/apps/${sid}/jupyter/api`, {
                headers: { cookie },
              }),
            ),
            404,
          );
          assertEquals(await statusOf(await fetch(`${appOrigin}/ui/`)), 404);

          // Bob's token for his own session never opens the admin's session.
          const bobs = await token("ia-bob", "9000", bob);
          assertEquals(
            await statusOf(await enter(`${base}?token=${bobs.token}`)),
            403,
          );
          assertEquals(
            await statusOf(
              await fetch(`${base}api`, {
                headers: { cookie: `bai_app=${bobs.token}` },
              }),
            ),
            403,
          );
          // Nor can he get one for it: the session is not his.
          assertEquals(
            await statusOf(
              await c.api(
                "POST",
                `/x/session/${sid}/apps/jupyter/token`,
                {},
                bob,
              ),
            ),
            404,
          );
          // The admin's cookie for Jupyter opens nothing of bob's session.
          assertEquals(
            await statusOf(
              await fetch(`${appOrigin}/x/apps/${other.sessionId}/9000/`, {
                headers: { cookie },
              }),
            ),
            403,
          );
          // Forged, missing, expired.
          const forged = mine.token.slice(0, -3) +
            (mine.token.endsWith("A") ? "BBB" : "AAA");
          assertEquals(
            await statusOf(await enter(`${base}?token=${forged}`)),
            401,
          );
          assertEquals(await statusOf(await fetch(`${base}api`)), 401);
          const brief = await token("ia-jup", "jupyter", c.admin, 1);
          await new Promise((r) => setTimeout(r, 1500));
          assertEquals(await statusOf(await enter(brief.url)), 401);
          assertEquals(
            await statusOf(
              await c.api("POST", "/x/session/ia-jup/apps/nope/token", {}),
            ),
            404,
          );
          // A deactivated keypair's cookie stops working.
          const bobEnter = await enter(bobs.url);
          assertEquals(await statusOf(bobEnter), 303);
          const bobCookie =
            (bobEnter.headers.get("set-cookie") ?? "").split(";")[0];
          await c.json("POST", `/x/admin/keypairs/${bob.accessKey}/deactivate`);
          assertEquals(
            await statusOf(
              await fetch(`${appOrigin}/x/apps/${other.sessionId}/9000/`, {
                headers: { cookie: bobCookie },
              }),
            ),
            401,
          );
        },
      );

      const noBrowser = browserMissing();
      if (noBrowser) console.log(`browser part skipped: ${noBrowser}`);
      await t.step({
        name: "a browser runs print(6*7) in a new notebook through the proxy",
        ignore: noBrowser !== undefined,
        fn: async () => {
          const { url } = await c.json<{ url: string }>(
            "POST",
            "/x/session/ia-jup/apps/jupyter/token",
            {},
          );
          const b = await launchBrowser();
          try {
            const page = await b.newPage();
            await page.goto(url);
            await page.waitForURL(/\/jupyter\/tree/, { timeout: 60_000 });
            const [nb] = await Promise.all([
              page.context().waitForEvent("page", { timeout: 60_000 }),
              (async () => {
                await page.locator("#new-dropdown-button").click();
                await page.locator("#kernel-python3 a").click();
              })(),
            ]);
            await nb.waitForURL(/\/jupyter\/notebooks\/Untitled.*\.ipynb/);
            await nb.locator("#kernel_indicator_icon.kernel_idle_icon").waitFor(
              {
                timeout: 90_000,
              },
            );
            await nb.locator(".CodeMirror").first().click();
            await nb.keyboard.type("print(6*7)");
            await nb.keyboard.press("Shift+Enter");
            await nb.locator(".output_subarea pre", { hasText: /^\s*42\s*$/ })
              .first().waitFor({ timeout: 60_000 });
            const shot = await saveScreenshot(nb, "jupyter-notebook-42");
            console.log(`screenshot: ${shot}`);
            // Saved through the proxy (a PUT with Jupyter's XSRF token).
            await nb.evaluate(() =>
              (globalThis as unknown as {
                Jupyter: { notebook: { save_notebook(): Promise<unknown> } };
              }).Jupyter.notebook.save_notebook()
            );
          } finally {
            await b.close();
          }
          // The notebook, with its cell, is a file in the session's work dir.
          const files = await c.json<{ files: string }>(
            "GET",
            "/session/ia-jup/files?path=.",
          );
          assertMatch(files.files, /Untitled\.ipynb/);
          const term = await pty("ia-jup");
          assertEquals(
            (await term.run("grep -o 'print(6[*]7)' Untitled.ipynb")).trim(),
            "print(6*7)",
          );
          term.close();
        },
      });

      await t.step(
        "restart and destroy end their terminals cleanly",
        async () => {
          const term = await pty("ia-jup");
          assertEquals((await term.run("echo before")).trim(), "before");
          await c.json("PATCH", "/session/ia-jup");
          const end = await term.closed;
          assertEquals(end.code, 1000);
          assertMatch(end.reason, /kernel/);
          const next = await pty("ia-jup");
          assertEquals((await next.run("echo after")).trim(), "after");
          await c.json("DELETE", "/session/ia-jup");
          const gone = await next.closed;
          assertEquals(gone.code, 1000);
          // An ended session has no terminal to give.
          const refused = await signedWebSocket(c, "/stream/session/ia-jup/pty")
            .then(() => "opened", (e: Error) => e.message);
          assertMatch(refused, /refused/);
        },
      );
    } finally {
      for (const term of terminals) {
        try {
          term.close();
        } catch { /* closed */ }
      }
      await c.stop();
    }
  },
});
