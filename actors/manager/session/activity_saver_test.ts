import { assertEquals } from "../../runtime/_test_util.ts";
import { ACTIVITY_SAVE_MS, ActivitySaver } from "./activity_saver.ts";

Deno.test("activity saver: many queries, one write per interval; flush writes what is due", async () => {
  let saves = 0;
  const saver = new ActivitySaver(() => {
    saves++;
    return Promise.resolve();
  });
  saver.flush();
  assertEquals(saves, 0, "nothing due: no write");
  for (let i = 0; i < 100; i++) saver.touched();
  assertEquals(saves, 0, "not at once");
  await new Promise((r) => setTimeout(r, ACTIVITY_SAVE_MS + 50));
  assertEquals(saves, 1, "one write for the hundred");
  saver.touched();
  saver.flush();
  assertEquals(saves, 2, "flush writes at once");
  saver.flush();
  assertEquals(saves, 2, "and only once");
});
