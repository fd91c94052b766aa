import assert from "node:assert/strict";
import type { AttachedStream } from "../docker/attach.ts";
import type { DemuxChunk } from "../docker/demux.ts";
import { KernelConnection } from "./connection.ts";
import {
  KernelDiedError,
  KernelReadyTimeoutError,
  KernelRequestError,
  KernelStorageFullError,
} from "./errors.ts";
import { encodeFrame, FrameDecoder } from "./protocol.ts";

/**
 * An in-memory AttachedStream with a scripted runner on the other side
 * (unit level; the real runner in a real container is in tests/agent_*).
 */
class FakeStream implements AttachedStream {
  sent: Record<string, unknown>[] = [];
  #queue: (DemuxChunk[] | null)[] = [];
  #wake: (() => void) | null = null;
  #dec = new FrameDecoder();
  closed = false;
  constructor(
    readonly answer: (msg: Record<string, unknown>, s: FakeStream) => void,
  ) {}
  emit(obj: unknown) {
    this.#queue.push([{ stream: "stdout", data: encodeFrame(obj) }]);
    this.#wake?.();
  }
  eof() {
    this.#queue.push(null);
    this.#wake?.();
  }
  write(bytes: Uint8Array): Promise<void> {
    for (const m of this.#dec.push(bytes) as Record<string, unknown>[]) {
      this.sent.push(m);
      this.answer(m, this);
    }
    return Promise.resolve();
  }
  async read(): Promise<DemuxChunk[] | null> {
    while (this.#queue.length === 0) {
      await new Promise<void>((r) => (this.#wake = r));
    }
    return this.#queue.shift()!;
  }
  closeWrite() {
    return Promise.resolve();
  }
  close() {
    this.closed = true;
    this.eof();
  }
}

const READY = { ev: "ready", lang: "python", version: "3", modes: ["query"] };

Deno.test("connection: ready, exec events in order, ping/put/get/list answered by id", async () => {
  const s = new FakeStream((m, s) => {
    if (m.op === "exec") {
      s.emit({ ev: "out", id: m.id, stream: "stdout", data: "hi\n" });
      s.emit({ ev: "waiting-input", id: m.id, prompt: "? ", password: false });
    } else if (m.op === "input") {
      s.emit({ ev: "out", id: m.id, stream: "stdout", data: `got ${m.text}` });
      s.emit({ ev: "done", id: m.id, status: "finished", exitCode: 0 });
    } else if (m.op === "ping" || m.op === "put") {
      s.emit({ ev: "ok", id: m.id });
    } else if (m.op === "get") {
      s.emit({ ev: "file", id: m.id, data: btoa("abc") });
    } else if (m.op === "list") {
      s.emit({
        ev: "entries",
        id: m.id,
        items: [{ name: "a", type: "file", size: 3, mtime: 1 }],
      });
    } else if (m.op === "complete") {
      s.emit({ ev: "error", id: m.id, msg: "no completer" });
    }
  });
  s.emit(READY);
  const c = await KernelConnection.open(s);
  assert.equal(c.ready.lang, "python");
  const run = c.exec("x = input('? ')");
  const seen: string[] = [];
  for await (const ev of run) {
    seen.push(ev.ev);
    if (ev.ev === "waiting-input") await run.input("42");
  }
  assert.deepEqual(seen, ["out", "waiting-input", "out", "done"]);
  assert.equal((await run.done).status, "finished");
  await c.ping();
  await c.put("f", new Uint8Array([1, 2]));
  assert.equal(new TextDecoder().decode(await c.get("f")), "abc");
  assert.equal((await c.list("."))[0].name, "a");
  await assert.rejects(c.complete("pri"), KernelRequestError);
  assert.equal(s.sent.find((m) => m.op === "put")?.data, btoa("\x01\x02"));
  c.close();
});

Deno.test("connection: EOF fails pending requests and runs with KernelDiedError", async () => {
  const s = new FakeStream(() => {}); // never answers
  s.emit(READY);
  const c = await KernelConnection.open(s);
  const ping = c.ping();
  const run = c.exec("while True: pass");
  s.eof();
  await assert.rejects(ping, KernelDiedError);
  await assert.rejects(run.done, KernelDiedError);
  await assert.rejects(
    (async () => {
      for await (const _ of run) { /* drain */ }
    })(),
    KernelDiedError,
  );
  assert.ok((await c.closed) instanceof KernelDiedError);
  assert.ok(c.isDead);
  await assert.rejects(c.ping(), KernelDiedError);
});

Deno.test("connection: EOF before ready and ready timeout are typed errors", async () => {
  const s1 = new FakeStream(() => {});
  s1.eof();
  await assert.rejects(KernelConnection.open(s1), KernelDiedError);
  const s2 = new FakeStream(() => {});
  await assert.rejects(
    KernelConnection.open(s2, { readyTimeoutMs: 10 }),
    KernelReadyTimeoutError,
  );
  assert.ok(s2.closed);
});

Deno.test("connection: invalid frames are dropped and reported, not fatal", async () => {
  const bad: unknown[] = [];
  const s = new FakeStream((m, s) => {
    s.emit({ ev: "done", id: m.id, status: "???" });
    s.emit({ ev: "ok", id: m.id });
  });
  s.emit(READY);
  const c = await KernelConnection.open(s, {
    onInvalidFrame: (f) => bad.push(f),
  });
  await c.ping();
  assert.equal(bad.length, 1);
  c.close();
});

function toB64(bytes: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(bin);
}

Deno.test("connection: files move in 1 MiB ranges both ways", async () => {
  const file = new Uint8Array((2 << 20) + 5).map((_, i) => i % 251);
  const stored = new Uint8Array(file.length);
  const s = new FakeStream((m, s) => {
    if (m.op === "put") {
      const piece = Uint8Array.from(
        atob(String(m.data)),
        (c) => c.charCodeAt(0),
      );
      stored.set(piece, Number(m.offset ?? 0));
      s.emit({ ev: "ok", id: m.id });
    } else if (m.op === "get") {
      const off = Number(m.offset), len = Number(m.length);
      const piece = file.subarray(off, off + len);
      s.emit({
        ev: "file",
        id: m.id,
        data: toB64(piece),
        offset: off,
        size: file.length,
        eof: off + piece.length >= file.length,
      });
    }
  });
  s.emit(READY);
  const c = await KernelConnection.open(s);
  await c.put("big", file);
  const puts = s.sent.filter((m) => m.op === "put");
  assert.deepEqual(puts.map((m) => m.offset), [undefined, 1 << 20, 2 << 20]);
  assert.deepEqual(stored, file);
  assert.deepEqual(await c.get("big"), file);
  assert.equal(s.sent.filter((m) => m.op === "get").length, 3);
  c.close();
});

Deno.test("connection: a failing run-event consumer does not end the kernel", async () => {
  const s = new FakeStream((m, s) => {
    if (m.op === "exec") {
      s.emit({ ev: "out", id: m.id, stream: "stdout", data: "x" });
      s.emit({ ev: "done", id: m.id, status: "finished", exitCode: 0 });
    } else s.emit({ ev: "ok", id: m.id });
  });
  s.emit(READY);
  const c = await KernelConnection.open(s);
  const run = c.exec("print(1)");
  run.onEvent = () => {
    throw new Error("cannot forward");
  };
  assert.equal((await run.done).exitCode, 0);
  await c.ping();
  assert.ok(!c.isDead);
  c.close();
});

Deno.test("connection: channels get their frames from the first byte; credit bounds input; death closes them", async () => {
  const s = new FakeStream((m, s) => {
    if (m.op === "chan.open") {
      s.emit({
        ev: "chan.opened",
        id: m.id,
        chan: m.chan,
        kind: "tcp",
        window: 8,
        port: 80,
      });
      // In the same read as the answer: must not be lost.
      s.emit({ ev: "chan.data", chan: m.chan, data: btoa("hello") });
    } else if (m.op === "chan.data") {
      s.emit({
        ev: "chan.credit",
        chan: m.chan,
        bytes: atob(String(m.data)).length,
      });
    } else if (m.op === "chan.close") {
      s.emit({
        ev: "chan.closed",
        chan: m.chan,
        reason: "closed by the agent",
      });
    }
  });
  s.emit(READY);
  const c = await KernelConnection.open(s);
  const seen: string[] = [];
  const handlers = (tag: string) => ({
    onData: (d: string) => seen.push(`${tag} data ${atob(d)}`),
    onCredit: (n: number) => seen.push(`${tag} credit ${n}`),
    onEof: () => seen.push(`${tag} eof`),
    onClosed: (why: string) => seen.push(`${tag} closed ${why}`),
  });
  const a = await c.openChannel("a", { kind: "tcp", port: 80 }, handlers("a"));
  assert.equal(a.window, 8);
  await a.write(btoa("1234"));
  await a.write(btoa("5678"));
  // 8 in flight until the credits arrive; then room again.
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(a.inFlight, 0);
  await assert.rejects(a.write(btoa("123456789")), /flow control/);
  assert.ok(a.closed);
  const b = await c.openChannel("b", { kind: "pty" }, handlers("b"));
  s.eof();
  await c.closed;
  assert.ok(b.closed);
  assert.deepEqual(seen, [
    "a data hello",
    "a credit 4",
    "a credit 4",
    "a closed flow control violated: 0 + 9 bytes in flight exceed the window of 8",
    "b data hello",
    "b closed runner stream ended (EOF)",
  ]);
});

Deno.test("connection: onClosed listeners hear the end once; a forgotten one does not; a late one soon", async () => {
  const s = new FakeStream(() => {});
  s.emit(READY);
  const c = await KernelConnection.open(s);
  const heard: string[] = [];
  c.onClosed((e) => heard.push(`a:${e.message}`));
  const forget = c.onClosed(() => heard.push("b"));
  forget();
  s.eof();
  await c.closed;
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(heard, ["a:runner stream ended (EOF)"]);
  const late = await new Promise<KernelDiedError>((r) => c.onClosed(r));
  assert.ok(late instanceof KernelDiedError);
  assert.deepEqual(heard.length, 1);
});

Deno.test("connection: a refusal naming ENOSPC or EDQUOT is a full disk, any other a refused request", async () => {
  const s = new FakeStream((m, s) => {
    const errno = { "full.bin": "ENOSPC", "quota.bin": "EDQUOT" }[
      m.path as string
    ];
    s.emit({ ev: "error", id: m.id, msg: "no", ...(errno ? { errno } : {}) });
  });
  s.emit(READY);
  const c = await KernelConnection.open(s);
  const data = new Uint8Array([1]);
  await assert.rejects(c.put("full.bin", data), KernelStorageFullError);
  await assert.rejects(c.put("quota.bin", data), KernelStorageFullError);
  const other = await c.put("bad/../path", data).catch((e) => e);
  assert.ok(other instanceof KernelRequestError);
  assert.equal(other.name, "KernelRequestError");
  c.close();
});
