/**
 * The session file routes (files.ts) over real HTTP against the stand-in:
 * multipart upload, Backend.AI's multipart/mixed download, listing, and
 * the GET requests with JSON bodies the Python SDK sends (only serve.ts's
 * listener reads those). Harness: _test_support.ts.
 */
import { assert, assertEquals, assertMatch } from "../tests/support/assert.ts";
import {
  createSession,
  dualTest,
  expectProblem,
  getWithBody,
  signed,
  withServer,
} from "./_test_support.ts";

dualTest("files: multipart upload, download, listing", async () => {
  await withServer(async (s) => {
    await createSession(s, "file-sess");
    const form = new FormData();
    form.append("src", new File(["hello file"], "a.txt"));
    const up = await signed(s, "/session/file-sess/upload", {
      method: "POST",
      rawBody: form,
      contentType: "multipart/form-data",
    });
    assertEquals(up.status, 204);
    const list = await (await signed(s, "/session/file-sess/files?path=."))
      .json();
    assertEquals(list, { path: ".", files: [{ name: "a.txt" }] });
    // Backend.AI's form: multipart/mixed, one tar part per file.
    const down = await signed(s, "/session/file-sess/download?files=a.txt");
    assertMatch(
      down.headers.get("content-type") ?? "",
      /^multipart\/mixed; boundary=\w+$/,
    );
    const parts = await down.text();
    assert(parts.includes("a.txt") && parts.includes("hello file"), parts);
    const single = await signed(
      s,
      "/session/file-sess/download_single?file=a.txt",
    );
    assertEquals(await single.text(), "hello file");
    await expectProblem(
      await signed(s, "/session/file-sess/download"),
      400,
      "invalid-api-params",
    );
    await expectProblem(
      await signed(s, "/session/file-sess/upload", {
        method: "POST",
        body: {},
      }),
      400,
      "invalid-api-params",
    );
  });
});

dualTest(
  "GET requests with JSON bodies (Python SDK download / list_files) are read",
  async () => {
    await withServer(async (s) => {
      await createSession(s, "pysdk-sess");
      const form = new FormData();
      form.append("src", new File(["py bytes"], "b.txt"));
      const up = await signed(s, "/session/pysdk-sess/upload", {
        method: "POST",
        rawBody: form,
        contentType: "multipart/form-data",
      });
      assertEquals(up.status, 204);
      const list = await getWithBody(s, "/session/pysdk-sess/files", {
        path: "sub/dir",
      });
      assertEquals([list.status, JSON.parse(list.text).path], [200, "sub/dir"]);
      const down = await getWithBody(s, "/session/pysdk-sess/download", {
        files: ["b.txt"],
      });
      assertEquals(down.status, 200);
      assert(down.text.includes("py bytes"), down.text);
      const bad = await getWithBody(
        s,
        "/session/pysdk-sess/files",
        "not an object",
      );
      assertEquals(bad.status, 400);
    });
  },
  ["serveGateway"],
);
