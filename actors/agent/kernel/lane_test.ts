import assert from "node:assert/strict";
import type { AttachedStream } from "../docker/attach.ts";
import type { DemuxChunk } from "../docker/demux.ts";
import { LANE_SOCKET, listenLane, SocketLane } from "./lane.ts";

/** An attach whose output the test pushes and whose stdin it reads. */
function fakeAttach() {
  const out: (DemuxChunk[] | null)[] = [];
  let wake: (() => void) | null = null;
  const stdin: string[] = [];
  const stream: AttachedStream = {
    write(b) {
      stdin.push(new TextDecoder().decode(b));
      return Promise.resolve();
    },
    async read() {
      while (out.length === 0) await new Promise<void>((r) => (wake = r));
      return out.shift()!;
    },
    closeWrite: () => Promise.resolve(),
    close() {
      out.push(null);
      wake?.();
    },
  };
  const push = (c: DemuxChunk[] | null) => {
    out.push(c);
    wake?.();
  };
  return { stream, push, stdin };
}

const enc = (s: string) => new TextEncoder().encode(s);
const text = (cs: DemuxChunk[] | null) =>
  (cs ?? []).map((c) => `${c.stream}:${new TextDecoder().decode(c.data)}`)
    .join(",");

async function lane() {
  const dir = await Deno.makeTempDir();
  const listener = (await listenLane(`${dir}/lane`))!;
  const attach = fakeAttach();
  const path = `${dir}/lane/${LANE_SOCKET}`;
  const connect = () => Deno.connect({ transport: "unix", path });
  return {
    dir,
    lane: new SocketLane(attach.stream, listener),
    attach,
    connect,
  };
}

async function readAll(c: Deno.Conn): Promise<string> {
  const buf = new Uint8Array(1024);
  const n = await c.read(buf);
  return n === null ? "<eof>" : new TextDecoder().decode(buf.subarray(0, n));
}

Deno.test("lane: a runner that connects gets the protocol; stdout then is not it, stderr still passes", async () => {
  const { dir, lane: l, attach, connect } = await lane();
  const runner = await connect();
  await runner.write(enc("ready"));
  assert.equal(text(await l.read()), "stdout:ready");
  assert.equal(l.onSocket, true);
  attach.push([{ stream: "stdout", data: enc("junk") }, {
    stream: "stderr",
    data: enc("diag"),
  }]);
  assert.equal(text(await l.read()), "stderr:diag");
  await l.write(enc("exec"));
  assert.equal(await readAll(runner), "exec");
  // One connection at a time: another is closed at once.
  const other = await connect();
  assert.equal(await readAll(other), "<eof>");
  other.close();
  // The container's end ends the stream, after what the runner wrote last.
  await runner.write(enc("last"));
  runner.close();
  attach.push(null);
  assert.equal(text(await l.read()), "stdout:last");
  assert.equal(await l.read(), null);
  l.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("lane: a runner on its stdio keeps the protocol there; no connection is taken after", async () => {
  const { dir, lane: l, attach, connect } = await lane();
  attach.push([{ stream: "stdout", data: enc("ready") }]);
  assert.equal(text(await l.read()), "stdout:ready");
  await l.write(enc("exec"));
  assert.deepEqual(attach.stdin, ["exec"]);
  const late = await connect();
  assert.equal(await readAll(late), "<eof>");
  late.close();
  assert.equal(l.onSocket, false);
  l.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("lane: after nextRunner writes wait for the next connection, in order; the old one is closed", async () => {
  const { dir, lane: l, connect } = await lane();
  const old = await connect();
  await old.write(enc("ready"));
  await l.read();
  l.nextRunner();
  assert.equal(await readAll(old), "<eof>");
  old.close();
  await l.write(enc("token"));
  await l.write(enc("+ping"));
  const fresh = await connect();
  let got = "";
  while (got.length < "token+ping".length) got += await readAll(fresh);
  assert.equal(got, "token+ping");
  await l.write(enc("exec"));
  assert.equal(await readAll(fresh), "exec");
  await fresh.write(enc("ready2"));
  assert.equal(text(await l.read()), "stdout:ready2");
  fresh.close();
  l.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("lane: a socket path too long for Linux means no lane (the stdio)", async () => {
  assert.equal(await listenLane(`/tmp/${"x".repeat(100)}`), null);
});
