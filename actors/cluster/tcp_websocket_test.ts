import { assert, assertEquals } from "./_test_assert.ts";
import { TcpWebSocket } from "./tcp_websocket.ts";

/** A Deno.serve WebSocket echo server; "close:CODE:REASON" makes it close. */
function echoServer() {
  return Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    (req) => {
      if (req.headers.get("upgrade") !== "websocket") {
        return new Response("no", { status: 426 });
      }
      const { socket, response } = Deno.upgradeWebSocket(req);
      socket.onmessage = (e) => {
        const d = e.data;
        if (typeof d === "string" && d.startsWith("close:")) {
          const [, code, reason] = d.split(":");
          socket.close(Number(code), reason);
        } else if (typeof d === "string" && d.startsWith("big:")) {
          socket.send("z".repeat(Number(d.slice(4))));
        } else socket.send(d);
      };
      return response;
    },
  );
}

function next<T extends Event>(ws: TcpWebSocket, type: string): Promise<T> {
  return new Promise((r) =>
    ws.addEventListener(type, (e) => r(e as T), { once: true })
  );
}

Deno.test("TcpWebSocket: text, binary and large messages round-trip; server close code arrives", async () => {
  const srv = echoServer();
  const ws = new TcpWebSocket(`ws://127.0.0.1:${srv.addr.port}/x/cluster?a=1`);
  await next(ws, "open");
  assertEquals(ws.readyState, TcpWebSocket.OPEN);
  const got: unknown[] = [];
  ws.onmessage = (e) => got.push(e.data);
  ws.send("hello");
  ws.send(new Uint8Array([1, 2, 3]));
  ws.send("big:70000"); // 64-bit length path
  ws.send("big:300"); // 16-bit length path
  while (got.length < 4) await next(ws, "message");
  assertEquals(got[0], "hello");
  assertEquals(Array.from(got[1] as Uint8Array), [1, 2, 3]);
  assertEquals((got[2] as string).length, 70000);
  assertEquals((got[3] as string).length, 300);
  const closed = next<CloseEvent>(ws, "close");
  ws.send("close:4001:go away");
  const ev = await closed;
  assertEquals([ev.code, ev.reason], [4001, "go away"]);
  assertEquals(ws.readyState, TcpWebSocket.CLOSED);
  await srv.shutdown();
});

Deno.test("TcpWebSocket: a refused upgrade gives error then close 1006", async () => {
  const srv = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    () => new Response("nope", { status: 403 }),
  );
  const ws = new TcpWebSocket(`ws://127.0.0.1:${srv.addr.port}/`);
  let errored = false;
  ws.onerror = () => errored = true;
  const ev = await next<CloseEvent>(ws, "close");
  assert(errored, "error event before close");
  assertEquals(ev.code, 1006);
  await srv.shutdown();
});

Deno.test("TcpWebSocket: a message over maxMessageBytes closes with 1009", async () => {
  const srv = echoServer();
  const ws = new TcpWebSocket(`ws://127.0.0.1:${srv.addr.port}/`, {
    maxMessageBytes: 1000,
  });
  await next(ws, "open");
  const closed = next<CloseEvent>(ws, "close");
  ws.send("big:5000");
  assertEquals((await closed).code, 1009);
  await srv.shutdown();
});

Deno.test("TcpWebSocket: close() from the client completes the handshake", async () => {
  const srv = echoServer();
  const ws = new TcpWebSocket(`ws://127.0.0.1:${srv.addr.port}/`);
  await next(ws, "open");
  const closed = next<CloseEvent>(ws, "close");
  ws.close(1000, "bye");
  const ev = await closed;
  assertEquals(ev.code, 1000);
  assert(ev.wasClean);
  await srv.shutdown();
});
