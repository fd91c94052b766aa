import { tarOneFile } from "./tar.ts";
import { multipartMixed } from "./multipart.ts";
import { assert, assertEquals } from "../tests/support/assert.ts";

const enc = new TextEncoder();

/** Lists and reads the archive with Python's tarfile (a real reader), if python3 is here. */
async function pythonRead(tar: Uint8Array): Promise<string | undefined> {
  try {
    await Deno.stat("/usr/bin/python3");
  } catch {
    return undefined;
  }
  const child = new Deno.Command("/usr/bin/python3", {
    args: [
      "-c",
      "import io,sys,tarfile,json\nt=tarfile.open(fileobj=io.BytesIO(sys.stdin.buffer.read()))\n" +
      "print(json.dumps([[m.name,m.size,oct(m.mode),t.extractfile(m).read().decode()] for m in t.getmembers()]))",
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(tar);
  await w.close();
  const out = await child.output();
  assert(out.success, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout).trim();
}

Deno.test("tarOneFile: one ustar entry, padded to blocks, readable by Python's tarfile", async () => {
  const tar = tarOneFile("notes.txt", enc.encode("hello\n"), { mtime: 0 });
  assertEquals(tar.length, 512 * 4);
  assertEquals(new TextDecoder().decode(tar.subarray(257, 262)), "ustar");
  const read = await pythonRead(tar);
  if (read === undefined) {
    console.log("python3 missing: skipped the tarfile cross-check");
    return;
  }
  assertEquals(JSON.parse(read), [["notes.txt", 6, "0o644", "hello\n"]]);
});

Deno.test("tarOneFile: long and non-ASCII names travel in a pax record", async () => {
  const name = "ü".repeat(10) + "-" + "x".repeat(120) + ".txt";
  const tar = tarOneFile(name, enc.encode(""));
  const read = await pythonRead(tar);
  if (read === undefined) return;
  assertEquals(JSON.parse(read), [[name, 0, "0o644", ""]]);
});

Deno.test("multipartMixed: parts between boundaries, identity encoding, closing delimiter", () => {
  const { contentType, body } = multipartMixed([
    enc.encode("one"),
    enc.encode("two"),
  ]);
  const boundary = contentType.split("boundary=")[1];
  const text = new TextDecoder().decode(body);
  assertEquals(text.split(`--${boundary}\r\n`).length, 3);
  assert(text.endsWith(`--${boundary}--\r\n`));
  assertEquals(text.match(/Content-Encoding: identity/g)?.length, 2);
  assert(text.includes("Content-Length: 3\r\n\r\none\r\n"));
});
