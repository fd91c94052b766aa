import assert from "node:assert/strict";
import { type TokenClaims, TokenSigner } from "./tokens.ts";

const claims: TokenClaims = {
  v: 1,
  op: "download",
  node: "storage-1",
  host: "local",
  folderId: "6b0f0e0c-6a41-4bb1-9b16-3c2cf1d1a001",
  path: "a/b.txt",
  exp: Date.now() + 60_000,
};

Deno.test("tokens: signed, op-bound, expiring, tamper-evident", async () => {
  const s = await TokenSigner.fromSecret("secret-one");
  const t = await s.sign(claims);
  assert.deepEqual(await s.verify(t, "download"), claims);
  assert.equal(await s.verify(t, "upload"), null, "other op");
  assert.equal(await s.verify(t, "download", claims.exp + 1), null, "expired");
  const other = await TokenSigner.fromSecret("secret-two");
  assert.equal(await other.verify(t, "download"), null, "other key");
  // A changed claim (another folder) breaks the signature.
  const [body, sig] = t.split(".");
  const forged = btoa(
    atob(body.replace(/-/g, "+").replace(/_/g, "/")).replace(
      "a/b.txt",
      "a/c.txt",
    ),
  ).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  assert.equal(await s.verify(`${forged}.${sig}`, "download"), null);
  for (const junk of ["", ".", "x.y", "a".repeat(5000), `${body}.`, null]) {
    assert.equal(await s.verify(junk, "download"), null);
  }
});
