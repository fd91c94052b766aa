import { assertEquals } from "../../tests/support/assert.ts";
import { storageOrigins } from "./storage_origins.ts";

Deno.test("storage origins: cached for a while, kept when the port fails", async () => {
  let now = 0;
  let calls = 0;
  let urls: string[] | Error = ["http://127.0.0.1:6021", "http://h:1/x"];
  const o = storageOrigins(
    {
      storageUrls: () => {
        calls++;
        return urls instanceof Error
          ? Promise.reject(urls)
          : Promise.resolve(urls);
      },
    },
    1000,
    () => now,
  );
  assertEquals(o.current(), []);
  assertEquals(await o.fresh(), ["http://127.0.0.1:6021", "http://h:1"]);
  await o.fresh();
  assertEquals(calls, 1, "cached");
  now = 2000;
  urls = new Error("registry away");
  assertEquals(await o.fresh(), ["http://127.0.0.1:6021", "http://h:1"]);
  assertEquals(calls, 2);
  urls = [];
  now = 2500; // the failure did not count as fresh
  assertEquals(await o.fresh(), []);
});

Deno.test("storage origins: none without folders", async () => {
  const o = storageOrigins({}, 1000);
  assertEquals(await o.fresh(), []);
});
