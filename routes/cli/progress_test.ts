import { assertEquals } from "../../tests/support/assert.ts";
import { formatBytes, Progress, progressLine } from "./progress.ts";

Deno.test("progress: bytes and lines for people", () => {
  assertEquals(formatBytes(0), "0 B");
  assertEquals(formatBytes(1023), "1023 B");
  assertEquals(formatBytes(3 * 1024 * 1024), "3.0 MiB");
  assertEquals(progressLine("upload a", 50, 200), "upload a 50 B / 200 B 25%");
  assertEquals(progressLine("upload a", 0, 0), "upload a 0 B");
});

Deno.test("progress: a pipe gets only the final line; a terminal redraws at most every 100 ms", async () => {
  const piped: string[] = [];
  const p = new Progress("download x", 10, {
    live: false,
    write: (t) => piped.push(t),
  });
  const counted = p.counting(
    new Blob([new Uint8Array(4), new Uint8Array(6)]).stream(),
  );
  await new Response(counted).arrayBuffer();
  p.finish(" → ./x");
  assertEquals(piped, ["download x 10 B / 10 B 100% → ./x\n"]);

  let now = 0;
  const live: string[] = [];
  const t = new Progress("upload y", 100, {
    live: true,
    write: (s) => live.push(s),
    now: () => now,
  });
  t.add(10); // drawn
  now = 50;
  t.add(10); // too soon
  now = 150;
  t.add(30); // drawn
  t.finish();
  assertEquals(live, [
    "\rupload y 10 B / 100 B 10%\x1b[K",
    "\rupload y 50 B / 100 B 50%\x1b[K",
    "\rupload y 50 B / 100 B 50%\x1b[K\n",
  ]);
});
