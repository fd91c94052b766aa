/**
 * Kernel channels at the agent level (issue 13): terminals and TCP streams
 * into a hardened kernel container (`--network none`, no capabilities),
 * carried over the runner connection the agent already has, driven with
 * the KernelActor messages of actors/protocol/agent.ts from another actor
 * system across the real cluster transport (tests/fixtures/agent_pair.ts).
 * Also the large-payload rules of issue 18 on the same path: a 5 MiB print
 * keeps the kernel and its state, and files move in ranges.
 *
 * Needs Docker and the built `bai/python` image (`deno task images build python`).
 */
import assert from "node:assert/strict";
import {
  type AgentPair,
  type Inbox,
  startAgentPair,
} from "./fixtures/agent_pair.ts";
import { dockerSkipReason } from "./fixtures/agent_docker.ts";
import { imageBuilt } from "./support/images.ts";
import type { ChannelOpened } from "../actors/agent/channel_relay.ts";
import { FILE_CHUNK_BYTES, type KernelMsg } from "../actors/protocol/agent.ts";

const ignore = dockerSkipReason !== null;
const MiB = 2 ** 20;
const enc = new TextEncoder();
const dec = new TextDecoder();

function b64(bytes: Uint8Array | string): string {
  const u = typeof bytes === "string" ? enc.encode(bytes) : bytes;
  let s = "";
  for (let i = 0; i < u.length; i += 0x8000) {
    s += String.fromCharCode(...u.subarray(i, i + 0x8000));
  }
  return btoa(s);
}
function unb64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

type Ev = {
  type: string;
  channelId?: string;
  data?: string;
  reason?: string;
  exitCode?: number;
  runId?: string;
  ev?: Record<string, unknown>;
};

/**
 * A line the terminal printed (not the echo of the typed command, whose
 * word follows a space; bash's bracketed-paste escapes end in CR).
 */
function outputLine(word: string): RegExp {
  return new RegExp(`[\\r\\n]${word}\\r\\n`);
}

/** Everything a channel's owner got as text, and whether it closed. */
function screen(inbox: Inbox, channelId: string) {
  const evs = (inbox.items as Ev[]).filter((m) => m.channelId === channelId);
  return {
    text: dec.decode(
      concat(
        evs.filter((m) => m.type === "channel.data").map((m) => unb64(m.data!)),
      ),
    ),
    bytes: evs.filter((m) => m.type === "channel.data").reduce(
      (n, m) => n + unb64(m.data!).length,
      0,
    ),
    closed: evs.find((m) => m.type === "channel.closed"),
    eof: evs.some((m) => m.type === "channel.eof"),
  };
}
function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A kernel (of the python image by default) with a session owner collecting run events. */
async function kernel(pair: AgentPair, name: string, image = "python") {
  const session = pair.owner(`session-${name}`, false);
  const kernelId = `k-${name}-${crypto.randomUUID().slice(0, 6)}`;
  await pair.agent.ask({
    type: "kernel.create",
    sessionId: `s-${kernelId}`,
    kernelId,
    image,
    slots: { cpu: 1, mem: 1024 * MiB },
    environ: { KERNEL_MARK: "from-environ" },
    mounts: [],
    owner: session.ref,
  }, { timeoutMs: 60_000 });
  const ref = pair.kernel(kernelId);
  let runs = 0;
  return {
    kernelId,
    ref,
    session,
    /** Runs query code; resolves with stdout, stderr and the exit code. */
    async run(code: string, opts: Record<string, unknown> = {}) {
      const runId = `r${++runs}`;
      await ref.ask({ type: "exec", runId, mode: "query", code, opts });
      const mine = () =>
        (session.inbox.items as Ev[]).filter((m) =>
          m.type === "run.event" && m.runId === runId
        );
      await session.inbox.until(
        () => mine().some((m) => m.ev?.ev === "done"),
        `done of ${runId}`,
        60_000,
      );
      const evs = mine().map((m) => m.ev!);
      const text = (s: string) =>
        evs.filter((e) => e.ev === "out" && e.stream === s).map((e) => e.data)
          .join("");
      return {
        stdout: text("stdout"),
        stderr: text("stderr"),
        exitCode: evs.find((e) => e.ev === "done")!.exitCode as number,
        events: evs,
      };
    },
    /** Opens a channel owned by a fresh owner. */
    async open(
      channelId: string,
      spec: Omit<
        Extract<KernelMsg, { type: "channel.open" }>,
        "type" | "channelId" | "owner"
      >,
    ) {
      const owner = pair.owner(channelId);
      const opened = await ref.ask<ChannelOpened>({
        type: "channel.open",
        channelId,
        owner: owner.ref,
        ...spec,
      }, { timeoutMs: 90_000 });
      const write = (text: string | Uint8Array) =>
        ref.tell({ type: "channel.write", channelId, data: b64(text) });
      const until = (
        what: string,
        pred: (s: ReturnType<typeof screen>) => boolean,
        ms?: number,
      ) =>
        owner.inbox.until(() => pred(screen(owner.inbox, channelId)), what, ms);
      return {
        opened,
        inbox: owner.inbox,
        write,
        until,
        screen: () => screen(owner.inbox, channelId),
        /** Types a command and waits for `expect` in the output. */
        async type(line: string, expect: string | RegExp) {
          write(line);
          await until(
            `${JSON.stringify(expect)} after ${JSON.stringify(line)}`,
            (s) =>
              typeof expect === "string"
                ? s.text.includes(expect)
                : expect.test(s.text),
          );
        },
      };
    },
  };
}

Deno.test({
  name:
    "agent channels: terminals, tcp streams, flow control, large output and files",
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await using pair = await startAgentPair();
    const k = await kernel(pair, "main");

    await t.step(
      "a terminal runs the image's shell as the kernel's user, in its work dir",
      async () => {
        const term = await k.open("t1", {
          kind: "pty",
          rows: 24,
          cols: 80,
          window: 4 * MiB,
        });
        assert.equal(term.opened.kind, "pty");
        await term.type("echo $((6*7))\n", outputLine("42"));
        await term.type(
          'echo "$(id -u):$PWD:$SHELL:$KERNEL_MARK:$TERM"\n',
          "1000:/home/work:/bin/bash:from-environ:xterm-256color",
        );
      },
    );

    await t.step("resize reaches the terminal (stty size)", async () => {
      const term = await k.open("t-size", {
        kind: "pty",
        rows: 30,
        cols: 100,
        window: 4 * MiB,
      });
      await term.type("stty size\n", "30 100");
      k.ref.tell({
        type: "channel.resize",
        channelId: "t-size",
        rows: 40,
        cols: 132,
      });
      await term.type("stty size\n", "40 132");
      k.ref.tell({ type: "channel.close", channelId: "t-size" });
      await term.until("channel.closed", (s) => s.closed !== undefined);
    });

    await t.step(
      "Ctrl-C interrupts the foreground process, not the shell",
      async () => {
        const term = await k.open("t-int", { kind: "pty", window: 4 * MiB });
        await term.type("echo ready\n", outputLine("ready"));
        term.write("sleep 100\n");
        // The line discipline turns 0x03 into SIGINT for the foreground group
        // once sleep runs; until then it is just a byte: repeat it.
        const before = term.screen().text.length;
        for (
          let i = 0;
          i < 50 && !/\^C/.test(term.screen().text.slice(before));
          i++
        ) {
          await new Promise((r) => setTimeout(r, 100));
          if (i % 5 === 4) term.write("\x03");
        }
        await term.type("echo rc=$?\n", /rc=130/);
        assert.equal(term.screen().closed, undefined, "the shell lives on");
      },
    );

    await t.step(
      "two terminals at once are separate shells; closing one leaves the other",
      async () => {
        const a = await k.open("t-a", { kind: "pty", window: 4 * MiB });
        const b = await k.open("t-b", { kind: "pty", window: 4 * MiB });
        a.write("export ONLY_A=yes\n");
        await Promise.all([
          a.type("echo A:${ONLY_A:-unset}\n", "A:yes"),
          b.type("echo B:${ONLY_A:-unset}\n", "B:unset"),
        ]);
        k.ref.tell({ type: "channel.close", channelId: "t-b" });
        await b.until("t-b closed", (s) => s.closed !== undefined);
        await a.type("echo still-here\n", outputLine("still-here"));
        const list = await k.ref.ask<{ channelId: string }[]>({
          type: "channel.list",
        });
        assert.ok(list.some((c) => c.channelId === "t-a"));
        assert.ok(!list.some((c) => c.channelId === "t-b"));
        a.write("exit 7\n");
        await a.until("t-a closed", (s) => s.closed !== undefined);
        assert.equal(a.screen().closed?.exitCode, 7);
        assert.equal(a.screen().closed?.reason, "shell exited");
      },
    );

    await t.step("a terminal cannot escape the kernel's limits", async () => {
      const term = await k.open("t-hard", { kind: "pty", window: 4 * MiB });
      term.write(
        [
          "grep -E '^(CapEff|CapPrm|CapBnd|NoNewPrivs):' /proc/self/status | tr -s '\\t ' ' '",
          "echo ifs=$(ls /sys/class/net | tr '\\n' ,)",
          "touch /usr/evil 2>/dev/null && echo usr=writable || echo usr=denied",
          "python3 -c \"import socket; socket.create_connection(('1.1.1.1', 80), 2)\" 2>/dev/null && echo net=open || echo net=none",
          "python3 -c \"import ctypes,os; l=ctypes.CDLL(None,use_errno=True); l.ptrace(16,1,0,0); print('ptrace1='+os.strerror(ctypes.get_errno()))\"",
          "echo probes-done\n",
        ].join("; "),
      );
      await term.until("probes", (s) => outputLine("probes-done").test(s.text));
      const out = term.screen().text;
      assert.match(out, /CapEff: 0000000000000000/);
      assert.match(out, /CapPrm: 0000000000000000/);
      assert.match(out, /CapBnd: 0000000000000000/);
      assert.match(out, /NoNewPrivs: 1/);
      assert.match(out, /ifs=lo,\r\n/);
      assert.match(out, /usr=denied/);
      assert.match(out, /net=none/);
      assert.match(out, /ptrace1=Operation not permitted/);
    });

    await t.step(
      "a tcp channel reaches a server on the kernel's loopback (HTTP GET)",
      async () => {
        const started = await k.run(
          "import subprocess, time, socket\n" +
            "srv = subprocess.Popen(['python3', '-m', 'http.server', '--bind', '127.0.0.1', '8000'], start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n" +
            "for _ in range(100):\n" +
            "    try:\n        socket.create_connection(('127.0.0.1', 8000), 1).close(); break\n" +
            "    except OSError:\n        time.sleep(0.1)\n" +
            "open('hello.txt', 'w').write('hi from the kernel')\nprint('up')",
        );
        assert.equal(started.stdout, "up\n", started.stderr);
        const tcp = await k.open("c-http", {
          kind: "tcp",
          port: 8000,
          window: 4 * MiB,
        });
        assert.equal(tcp.opened.port, 8000);
        tcp.write("GET /hello.txt HTTP/1.0\r\nHost: kernel\r\n\r\n");
        k.ref.tell({ type: "channel.eof", channelId: "c-http" });
        await tcp.until("the answer and close", (s) => s.closed !== undefined);
        const s = tcp.screen();
        assert.match(s.text, /^HTTP\/1\.0 200 OK\r\n/);
        assert.ok(
          s.text.endsWith("\r\n\r\nhi from the kernel"),
          s.text.slice(-80),
        );
        assert.ok(s.eof);
        assert.equal(s.closed?.reason, "eof");
      },
    );

    await t.step(
      "a tcp channel to a port where nothing listens is refused clearly",
      async () => {
        const owner = pair.owner("refused");
        await assert.rejects(
          k.ref.ask({
            type: "channel.open",
            channelId: "c-none",
            kind: "tcp",
            port: 8999,
            owner: owner.ref,
          }),
          /cannot connect to 127\.0\.0\.1:8999/,
        );
        const again = await k.run("print('kernel fine')");
        assert.equal(again.stdout, "kernel fine\n");
      },
    );

    await t.step(
      "flow control: without credit the kernel stops at the window; with it all arrives",
      async () => {
        const total = 8 * MiB;
        // A generator that serves `total` bytes to every connection.
        const gen =
          "import socket\\ns=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', 8001)); s.listen()\\nwhile True:\\n c,_=s.accept()\\n try:\\n  [c.sendall(bytes([i % 251]) * 65536) for i in range(" +
          total / 65536 + ")]\\n except OSError: pass\\n c.close()";
        const started = await k.run(
          "import subprocess, time, socket\n" +
            `gen = subprocess.Popen(['python3', '-c', "${gen}"], start_new_session=True)\n` +
            "for _ in range(100):\n" +
            "    try:\n        socket.create_connection(('127.0.0.1', 8001), 1).close(); break\n" +
            "    except OSError:\n        time.sleep(0.1)\nprint('up')",
        );
        assert.equal(started.stdout, "up\n", started.stderr);
        const window = 512 * 1024;
        const tcp = await k.open("c-flow", { kind: "tcp", port: 8001, window });
        await tcp.until("the first window", (s) => s.bytes >= window);
        await new Promise((r) => setTimeout(r, 1000));
        assert.equal(
          tcp.screen().bytes,
          window,
          "nothing past the window without credit",
        );
        let credited = 0;
        while (!tcp.screen().eof) {
          const got = tcp.screen().bytes;
          if (got > credited) {
            k.ref.tell({
              type: "channel.credit",
              channelId: "c-flow",
              bytes: got - credited,
            });
            credited = got;
          }
          await tcp.until("more data", (s) => s.bytes > got || s.eof, 30_000);
        }
        const s = tcp.screen();
        assert.equal(s.bytes, total);
        // Every chunk is at most 64 KiB: no message carried much.
        const sizes = (tcp.inbox.items as Ev[]).filter((m) =>
          m.type === "channel.data"
        )
          .map((m) => unb64(m.data!).length);
        assert.ok(Math.max(...sizes) <= 64 * 1024);
      },
    );

    await t.step(
      "a 5 MiB print keeps the kernel and its state (issue 18)",
      async () => {
        await k.run("kept = 41");
        const big = await k.run(
          "import sys\nsys.stdout.write('z' * (5 << 20))\nNone",
          {
            maxOutputBytes: 8 * MiB,
          },
        );
        assert.equal(big.exitCode, 0, big.stderr);
        assert.equal(big.stdout.length, 5 * MiB);
        const sizes = big.events.filter((e) => e.ev === "out").map((e) =>
          String(e.data).length
        );
        assert.ok(
          Math.max(...sizes) <= 256 * 1024,
          `largest event ${Math.max(...sizes)}`,
        );
        assert.equal((await k.run("print(kept + 1)")).stdout, "42\n");
      },
    );

    await t.step(
      "files move in ranges: a 20 MiB upload and download, none in one message",
      async () => {
        const size = 20 * MiB + 12345;
        const data = new Uint8Array(size);
        for (let i = 0; i < size; i++) data[i] = (i * 7 + (i >> 12)) & 0xff;
        const chunk = 1 * MiB;
        for (let off = 0; off < size; off += chunk) {
          await k.ref.ask({
            type: "put",
            path: "up/big.bin",
            data: b64(data.subarray(off, off + chunk)),
            ...(off ? { offset: off } : {}),
          }, { timeoutMs: 30_000 });
        }
        const check = await k.run(
          "import hashlib\nprint(hashlib.sha256(open('up/big.bin','rb').read()).hexdigest(), __import__('os').path.getsize('up/big.bin'))",
        );
        const want = Array.from(
          new Uint8Array(await crypto.subtle.digest("SHA-256", data)),
          (b) => b.toString(16).padStart(2, "0"),
        ).join("");
        assert.equal(check.stdout.trim(), `${want} ${size}`);
        const parts: Uint8Array[] = [];
        let offset = 0;
        for (;;) {
          const r = await k.ref.ask<
            { data: string; size: number; eof: boolean }
          >({
            type: "get",
            path: "up/big.bin",
            offset,
            length: FILE_CHUNK_BYTES,
          }, { timeoutMs: 30_000 });
          const piece = unb64(r.data);
          parts.push(piece);
          offset += piece.length;
          assert.equal(r.size, size);
          if (r.eof) break;
        }
        assert.deepEqual(concat(parts), data);
      },
    );

    await t.step(
      "destroying the kernel ends its terminals, each owner told why",
      async () => {
        const k2 = await kernel(pair, "doomed");
        const a = await k2.open("d1", { kind: "pty", window: 4 * MiB });
        const b = await k2.open("d2", { kind: "pty", window: 4 * MiB });
        await a.type("echo alive\n", outputLine("alive"));
        await pair.agent.ask(
          {
            type: "kernel.destroy",
            kernelId: k2.kernelId,
            reason: "test",
          },
          { timeoutMs: 30_000 },
        );
        await a.until("d1 closed", (s) => s.closed !== undefined);
        await b.until("d2 closed", (s) => s.closed !== undefined);
        assert.match(a.screen().closed?.reason ?? "", /kernel .*ended/);
      },
    );
  },
});

const jupyterImage = "bai/python-jupyter:3.11-bookworm";
const jupyterBuilt = !ignore && await imageBuilt(jupyterImage);
if (!ignore && !jupyterBuilt) {
  console.error(
    `agent_channels_test: ${jupyterImage} not built (deno task images build python-jupyter); the Jupyter test is skipped`,
  );
}

/** One HTTP/1.1 exchange over a fresh app channel; the app closes it (Connection: close). */
async function httpOverApp(
  k: Awaited<ReturnType<typeof kernel>>,
  channelId: string,
  request: string,
) {
  const ch = await k.open(channelId, {
    kind: "app",
    app: "jupyter",
    baseUrl: "/x/apps/s1/jupyter/",
    window: 4 * MiB,
  });
  ch.write(request);
  await ch.until(
    "the response",
    (s) => s.eof || s.closed !== undefined,
    60_000,
  );
  return { opened: ch.opened, text: ch.screen().text };
}

Deno.test({
  name:
    `python-jupyter: the jupyter service port starts on first use and answers /api through a channel${
      jupyterBuilt ? "" : " (ignored: image not built)"
    }`,
  ignore: !jupyterBuilt,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using pair = await startAgentPair();
    const k = await kernel(pair, "jup", "python-jupyter");
    const apps = await k.ref.ask<
      {
        items: {
          name: string;
          protocol: string;
          ports: number[];
          running: boolean;
        }[];
      }
    >(
      { type: "apps" },
    );
    assert.deepEqual(
      apps.items.map((a) => [a.name, a.protocol, a.ports, a.running]),
      [["jupyter", "http", [8080], false]],
    );
    const api = await httpOverApp(
      k,
      "j1",
      "GET /x/apps/s1/jupyter/api HTTP/1.1\r\nHost: proxy.example\r\nConnection: close\r\n\r\n",
    );
    assert.equal(api.opened.started, true);
    assert.equal(api.opened.baseUrl, "/x/apps/s1/jupyter/");
    assert.match(api.text, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(api.text, /\{"version": "6\.\d+\.\d+"\}$/);

    // A second channel finds it running. A page visit sets the _xsrf
    // cookie a browser sends back with its writes (Jupyter's CSRF check).
    const tree = await httpOverApp(
      k,
      "j2",
      "GET /x/apps/s1/jupyter/tree HTTP/1.1\r\nHost: proxy.example\r\nConnection: close\r\n\r\n",
    );
    assert.equal(tree.opened.started, false);
    const xsrf = /Set-Cookie: _xsrf=([^;]+)/i.exec(tree.text)?.[1];
    assert.ok(xsrf, tree.text.slice(0, 400));
    const body = JSON.stringify({ type: "notebook" });
    const put = await httpOverApp(
      k,
      "j3",
      `PUT /x/apps/s1/jupyter/api/contents/made.ipynb HTTP/1.1\r\nHost: proxy.example\r\nConnection: close\r\nCookie: _xsrf=${xsrf}\r\nX-XSRFToken: ${xsrf}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    assert.match(
      put.text,
      /^HTTP\/1\.1 201 Created\r\n/,
      put.text.slice(0, 300),
    );
    const listed = await k.ref.ask<{ items: { name: string }[] }>({
      type: "list",
      path: ".",
    });
    assert.ok(
      listed.items.some((e) => e.name === "made.ipynb"),
      "the notebook is in the work dir",
    );
  },
});
