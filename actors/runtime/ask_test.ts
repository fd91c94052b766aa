import { PendingAsk, TimeoutQueue } from "./ask.ts";
import { AskTimeoutError } from "./types.ts";
import { assertEquals, assertRejects } from "./_test_util.ts";

Deno.test("the shared timer expires only the asks left unanswered, by deadline", async () => {
  const q = new TimeoutQueue();
  const expired: string[] = [];
  const entry = (name: string) => {
    const e = {
      deadline: 0,
      settled: false,
      expire() {
        e.settled = true;
        q.settled();
        expired.push(name);
      },
    };
    return e;
  };
  const long = entry("long");
  const short = entry("short");
  const answered = entry("answered");
  q.add(long, 40);
  q.add(answered, 10);
  q.add(short, 10);
  answered.settled = true;
  q.settled();
  await new Promise((r) => setTimeout(r, 60));
  assertEquals(expired, ["short", "long"]);
  assertEquals(q.pending, 0);
});

Deno.test("a pending ask settles once: reply, timeout or abort", async () => {
  const to = { node: "n", path: "/user/x" };
  const a = new PendingAsk(to, 10);
  a.resolve(1);
  a.reject(new Error("ignored"));
  assertEquals(await a.promise, 1);
  const b = new PendingAsk(to, 5);
  await assertRejects(b.promise, AskTimeoutError);
  b.resolve("too late");
  const c = new PendingAsk(to, Infinity);
  c.resolve("no timer needed");
  assertEquals(await c.promise, "no timer needed");
});
