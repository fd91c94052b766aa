import { assert, assertEquals } from "../../runtime/_test_util.ts";
import { MAX_PENDING_CHARS, Run } from "./run.ts";

Deno.test("run: consecutive stdout merges, other kinds keep their place", () => {
  const run = new Run("r", "query");
  run.push(["stdout", "a"]);
  run.push(["stdout", "b"]);
  run.push(["media", ["image/png", "AAAA"]]);
  run.push(["stdout", "c"]);
  run.setStatus("finished", 0);
  const r = run.take();
  assertEquals(r.console, [
    ["stdout", "ab"],
    ["media", ["image/png", "AAAA"]],
    ["stdout", "c"],
  ]);
  assertEquals([r.status, r.exitCode], ["finished", 0]);
});

Deno.test("run: media counts against the per-poll bound like text", () => {
  const run = new Run("r", "query");
  const big = "A".repeat(MAX_PENDING_CHARS / 4);
  for (let i = 0; i < 10; i++) run.push(["media", ["image/png", big]]);
  const r = run.take();
  const media = r.console.filter(([k]) => k === "media").length;
  assertEquals(media, 3, "4 would pass the bound with the mime types");
  assert(
    r.console.some(([k, d]) =>
      k === "stderr" && String(d).includes("output cut")
    ),
    "the client is told output was cut",
  );
  // The bound is per poll: after a take, new output is kept again.
  run.push(["media", ["image/png", "AA"]]);
  assertEquals(run.take().console.length, 1);
});

Deno.test("run: batch stages are reported once each, in order, before the end", () => {
  const run = new Run("r", "batch");
  run.push(["stdout", "building"]);
  run.setStatus("build-finished", 0);
  run.push(["stdout", "ran"]);
  run.setStatus("finished", 3);
  const stage = run.take();
  assertEquals([stage.status, stage.console], [
    "build-finished",
    [["stdout", "building"]],
  ]);
  const end = run.take();
  assertEquals([end.status, end.exitCode, end.console], [
    "finished",
    3,
    [["stdout", "ran"]],
  ]);
});

Deno.test("run: wait resolves early on a stopping status, else after its time", async () => {
  const run = new Run("r", "query");
  const t0 = Date.now();
  await run.wait(20);
  assert(Date.now() - t0 >= 15, "no status: the wait runs its course");
  const waiting = run.wait(5_000);
  run.setStatus("waiting-input", null, { is_password: false });
  await waiting;
  assertEquals(run.take().status, "waiting-input");
});

Deno.test("run relay: media parts join into one item; an oversize item is cut, not kept", async () => {
  const { RunRelay } = await import("./runs.ts");
  const { KernelLink } = await import("./kernel_link.ts");
  const sent: unknown[] = [];
  const link = new KernelLink({
    self: { tell() {} } as never,
    watch() {},
    unwatch() {},
    agentRef: () => ({}) as never,
    kernelRef: () =>
      ({
        tell: () => {},
        ask: (m: unknown) => (sent.push(m), Promise.resolve({})),
      }) as never,
  });
  link.attach("a", "k");
  const relay = new RunRelay(link, () => {});
  const runId = relay.stream("query", "plot()", {});
  const ev = (data: string, more: boolean) =>
    relay.onEvent({
      type: "run.event",
      kernelId: "k",
      runId,
      ev: { ev: "media", mime: "image/png", data, more },
    });
  ev("AAAA", true);
  ev("BBBB", true);
  ev("CC==", false);
  const big = "Z".repeat(MAX_PENDING_CHARS / 2 + 1);
  ev(big, true);
  ev(big, true);
  ev(big, false);
  const taken = relay.current!.take().console;
  assertEquals(taken[0], ["media", ["image/png", "AAAABBBBCC=="]]);
  assertEquals(taken.length, 2);
  assert(String(taken[1][1]).includes("over 4 MiB"), JSON.stringify(taken[1]));
  assertEquals(sent.length, 1, "one exec reached the kernel");
});

Deno.test("run: an eager wait (a stream's poll) ends on output, a plain one on the status", async () => {
  const run = new Run("r", "query");
  let plain = false;
  let eager = false;
  run.wait(10_000).then(() => (plain = true));
  const eagerWait = run.wait(10_000, true).then(() => (eager = true));
  run.push(["stdout", "a"]);
  run.push(["stdout", "b"]);
  await eagerWait;
  assertEquals([eager, plain], [true, false]);
  assertEquals(run.take().console, [["stdout", "ab"]], "gathered together");
  run.setStatus("finished", 0);
  await Promise.resolve();
  assertEquals(plain, true, "the run's end ends every wait");
});

Deno.test("run: a quick run's output and end come in one eager answer", async () => {
  const run = new Run("r", "query");
  const wait = run.wait(10_000, true);
  run.push(["stdout", "1\n"]);
  run.setStatus("finished", 0);
  await wait;
  const r = run.take();
  assertEquals([r.status, r.console], ["finished", [["stdout", "1\n"]]]);
});
