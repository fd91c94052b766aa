import assert from "node:assert/strict";
import { PathRefused, resolveInside } from "./paths.ts";

async function refused(p: Promise<unknown>, type: PathRefused["type"]) {
  await assert.rejects(p, (e) => e instanceof PathRefused && e.type === type);
}

Deno.test("resolveInside: symlinks may not lead out, nothing is written through one", async () => {
  const dir = await Deno.makeTempDir();
  const root = `${dir}/root`;
  await Deno.mkdir(`${root}/sub`, { recursive: true });
  await Deno.mkdir(`${dir}/outside`);
  await Deno.writeTextFile(`${dir}/outside/secret`, "s");
  await Deno.writeTextFile(`${root}/sub/f.txt`, "f");
  await Deno.symlink(`${dir}/outside`, `${root}/out`);
  await Deno.symlink("sub", `${root}/in`);
  await Deno.symlink(`${dir}/outside/secret`, `${root}/secret-link`);
  try {
    const real = await Deno.realPath(root);
    assert.equal(
      await resolveInside(root, "sub/f.txt", "existing"),
      `${real}/sub/f.txt`,
    );
    assert.equal(
      await resolveInside(root, "in/f.txt", "existing"),
      `${real}/sub/f.txt`,
    );
    assert.equal(await resolveInside(root, "", "existing"), real);
    await refused(
      resolveInside(root, "out/secret", "existing"),
      "generic-forbidden",
    );
    await refused(
      resolveInside(root, "secret-link", "existing"),
      "generic-forbidden",
    );
    await refused(
      resolveInside(root, "out/new", "create"),
      "generic-forbidden",
    );
    await refused(
      resolveInside(root, "secret-link", "create"),
      "generic-forbidden",
    );
    await refused(
      resolveInside(root, "../outside/secret", "existing"),
      "invalid-api-params",
    );
    await refused(
      resolveInside(root, "/etc/passwd", "existing"),
      "invalid-api-params",
    );
    await refused(resolveInside(root, "nope", "existing"), "object-not-found");
    await refused(resolveInside(root, "", "create"), "invalid-api-params");
    // The link itself, not its target, for deletes and renames.
    assert.equal(await resolveInside(root, "out", "entry"), `${real}/out`);
    // New paths under real dirs are fine, missing parents included.
    assert.equal(
      await resolveInside(root, "a/b/c.txt", "create"),
      `${real}/a/b/c.txt`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
