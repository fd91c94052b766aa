import { type Runnable, schedule, THROUGHPUT } from "./dispatcher.ts";
import { assertEquals } from "./_test_util.ts";

/** A fake actor with `left` messages to handle. */
class Fake implements Runnable {
  queued = false;
  runs = 0;
  constructor(
    readonly name: string,
    public left: number,
    readonly trace: string[],
  ) {}
  run(max: number): number {
    this.runs++;
    const n = Math.min(max, this.left);
    this.left -= n;
    this.trace.push(`${this.name}:${n}`);
    if (this.left > 0) schedule(this);
    return n;
  }
}

Deno.test("each runnable is queued once and gets THROUGHPUT per turn, round robin", async () => {
  const trace: string[] = [];
  const a = new Fake("a", THROUGHPUT * 2 + 1, trace);
  const b = new Fake("b", 1, trace);
  schedule(a);
  schedule(a); // already queued: no second entry
  schedule(b);
  while (a.left > 0 || b.left > 0) await new Promise((r) => setTimeout(r, 0));
  assertEquals(trace, [`a:${THROUGHPUT}`, "b:1", `a:${THROUGHPUT}`, "a:1"]);
});
