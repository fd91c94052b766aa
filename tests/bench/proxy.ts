/**
 * The manager's app proxies on a real cluster (manager + one agent
 * process, real Docker, the `python` image, `--network none`): bytes go
 * client ⇄ manager (WebSocket or HTTP) ⇄ cluster link ⇄ agent ⇄ runner
 * connection ⇄ a server on the kernel's loopback. stdout: only `BENCH` lines.
 *   proxy.tcp_throughput_mib_s  64 MiB from a server in the kernel to a
 *                               client of `/stream/session/{ref}/tcpproxy`
 *                               (binary WebSocket frames), kernel → client
 *   proxy.tcp_upload_mib_s      32 MiB the other way, to a sink that answers
 *                               once it has read them all
 *   proxy.http_rtt_p50_ms       one keep-alive `GET` through the browser app
 *                               proxy (`/x/apps/...`, token cookie) to a tiny
 *                               HTTP/1.1 server in the kernel, 200 samples
 *
 * Run: deno run -A tests/bench/proxy.ts
 */
import { startCluster } from "../support/cluster.ts";
import { signedWebSocket } from "../support/terminal.ts";

const MiB = 2 ** 20;
const DOWN = 64 * MiB;
const UP = 32 * MiB;
const SAMPLES = Number(Deno.env.get("BENCH_SAMPLES") ?? 200);

function p50(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Python that starts `body` detached and waits for `port` to accept. */
function serve(port: number, body: string): string {
  return "import subprocess, socket, time\n" +
    `subprocess.Popen(['python3', '-c', ${
      JSON.stringify(body)
    }], start_new_session=True)\n` +
    "for _ in range(100):\n" +
    `    try:\n        socket.create_connection(('127.0.0.1', ${port}), 1).close(); break\n` +
    "    except OSError:\n        time.sleep(0.1)\n";
}

const LISTEN = (port: number) =>
  "import socket\ns=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); " +
  `s.bind(('127.0.0.1', ${port})); s.listen()\n`;

const c = await startCluster({ agents: 1 });
try {
  await c.json("POST", "/session", {
    image: "python",
    name: "bench-proxy",
    config: { preopen_ports: [9001, 9002, 9003] },
  });
  const run = (code: string) =>
    c.json("POST", "/session/bench-proxy", {
      mode: "query",
      code,
      runId: crypto.randomUUID(),
    });
  await run(serve(
    9001,
    LISTEN(9001) +
      "while True:\n c,_=s.accept(); b=b'z'*65536\n try:\n  [c.sendall(b) for _ in range(" +
      DOWN / 65536 + ")]\n except OSError: pass\n c.close()",
  ));
  await run(serve(
    9003,
    LISTEN(9003) +
      `while True:\n c,_=s.accept(); n=0\n while n < ${UP}:\n  d=c.recv(1 << 20)\n  if not d: break\n  n+=len(d)\n c.sendall(str(n).encode()); c.close()`,
  ));
  // A keep-alive HTTP/1.1 server that answers in one write: the figure is
  // the proxy's, not Nagle's (http.server writes head and body apart, and
  // the second write waits ~40 ms for the first one's delayed ACK).
  await run(serve(
    9002,
    LISTEN(9002) +
      "import threading\n" +
      "def conn(c):\n" +
      " buf=b''\n" +
      " while True:\n" +
      "  while b'\\r\\n\\r\\n' not in buf:\n" +
      "   d=c.recv(65536)\n" +
      "   if not d: c.close(); return\n" +
      "   buf+=d\n" +
      "  buf=buf.split(b'\\r\\n\\r\\n',1)[1]\n" +
      "  c.sendall(b'HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok')\n" +
      "while True:\n c,_=s.accept(); threading.Thread(target=conn, args=(c,), daemon=True).start()",
  ));

  // kernel → client through /tcpproxy
  {
    const ws = await signedWebSocket(
      c,
      "/stream/session/bench-proxy/tcpproxy?app=9001",
    );
    let bytes = 0;
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      ws.onmessage = (e) => (bytes += (e.data as ArrayBuffer).byteLength);
      ws.onclose = () => resolve();
    });
    const secs = (performance.now() - t0) / 1000;
    console.error(`down: ${bytes} bytes in ${secs.toFixed(2)} s`);
    if (bytes !== DOWN) throw new Error(`got ${bytes} of ${DOWN} bytes`);
    console.log(
      `BENCH proxy.tcp_throughput_mib_s ${(bytes / MiB / secs).toFixed(1)}`,
    );
  }

  // client → kernel through /tcpproxy, paced by the socket's own buffer
  {
    const ws = await signedWebSocket(
      c,
      "/stream/session/bench-proxy/tcpproxy?app=9003",
    );
    let answer = "";
    const done = new Promise<void>((resolve) => {
      ws.onmessage = (
        e,
      ) => (answer += new TextDecoder().decode(e.data as ArrayBuffer));
      ws.onclose = () => resolve();
    });
    const chunk = new Uint8Array(64 * 1024);
    const t0 = performance.now();
    for (let sent = 0; sent < UP; sent += chunk.byteLength) {
      ws.send(chunk);
      while (ws.bufferedAmount > 4 * MiB) {
        await new Promise((r) => setTimeout(r, 2));
      }
    }
    await done;
    const secs = (performance.now() - t0) / 1000;
    console.error(`up: ${answer} bytes acknowledged in ${secs.toFixed(2)} s`);
    if (Number(answer) !== UP) throw new Error(`sink read ${answer} of ${UP}`);
    console.log(`BENCH proxy.tcp_upload_mib_s ${(UP / MiB / secs).toFixed(1)}`);
  }

  // GET round trips through the browser proxy (keep-alive, pooled channels)
  {
    const t = await c.json<{ url: string }>(
      "POST",
      "/x/session/bench-proxy/apps/9002/token",
      {},
    );
    const enter = await fetch(t.url, { redirect: "manual" });
    await enter.body?.cancel();
    const cookie = (enter.headers.get("set-cookie") ?? "").split(";")[0];
    const url = new URL(t.url);
    url.search = "";
    const times: number[] = [];
    for (let i = 0; i < SAMPLES + 10; i++) {
      const t0 = performance.now();
      const res = await fetch(url, { headers: { cookie } });
      const body = await res.text();
      if (body !== "ok") {
        throw new Error(`proxy answered ${res.status}: ${body}`);
      }
      if (i >= 10) times.push(performance.now() - t0); // the first open the channels
    }
    console.error(
      `http: p50 ${p50(times).toFixed(2)} ms, min ${
        Math.min(...times).toFixed(2)
      } ms over ${times.length}`,
    );
    console.log(`BENCH proxy.http_rtt_p50_ms ${p50(times).toFixed(2)}`);
  }
} finally {
  await c.stop();
}
