import { assertEquals } from "../../tests/support/assert.ts";
import { multipartBody } from "./multipart.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("multipart: the server's form parser reads every file back, names and bytes intact", async () => {
  const binary = new Uint8Array(70_000).map((_, i) => i % 251);
  const body = multipartBody([
    {
      filename: "main.c",
      size: 5,
      open: () => new Blob([bytes("int x")]).stream(),
    },
    {
      filename: 'odd "name".bin',
      size: binary.length,
      open: () => new Blob([binary]).stream(),
    },
    { filename: "empty.txt", size: 0, open: () => new Blob([]).stream() },
  ]);
  const form = await new Response(body.stream, {
    headers: { "content-type": body.contentType },
  }).formData();
  const files = form.getAll("src") as File[];
  // A quote in a name is sent as %22, as browsers and Deno's FormData do
  // (Deno's parser, like theirs, keeps it so).
  assertEquals(files.map((f) => f.name), [
    "main.c",
    "odd %22name%22.bin",
    "empty.txt",
  ]);
  assertEquals(await files[0].text(), "int x");
  assertEquals(new Uint8Array(await files[1].arrayBuffer()), binary);
  assertEquals(files[2].size, 0);
});

Deno.test("multipart: a file that changed size while sent fails the body", async () => {
  const body = multipartBody([
    {
      filename: "a",
      size: 10,
      open: () => new Blob([bytes("short")]).stream(),
    },
  ]);
  let failed = "";
  try {
    await new Response(body.stream).arrayBuffer();
  } catch (e) {
    failed = (e as Error).message;
  }
  assertEquals(failed.includes("changed while it was sent"), true, failed);
});
