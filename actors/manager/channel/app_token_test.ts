import assert from "node:assert/strict";
import { AppTokens } from "./app_token.ts";
import type { AppGrant } from "../port/channels.ts";

const grant = (over: Partial<AppGrant> = {}): AppGrant => ({
  accessKey: "AKIA1",
  sessionId: "sess-a",
  app: "jupyter",
  expiresAt: 10_000,
  use: "url",
  ...over,
});

Deno.test("app tokens: a signed grant verifies until it expires", () => {
  const t = new AppTokens("secret");
  const token = t.sign(grant());
  assert.deepEqual(t.verify(token, 9_999), grant());
  assert.equal(t.verify(token, 10_000), undefined, "expired at its time");
});

Deno.test("app tokens: another secret, a changed body or signature, junk: refused", () => {
  const t = new AppTokens("secret");
  const token = t.sign(grant());
  assert.equal(new AppTokens("other").verify(token, 0), undefined);
  const [body, mac] = token.split(".");
  const forged = btoa(JSON.stringify({
    a: "AKIA1",
    s: "sess-b",
    p: "jupyter",
    e: 10_000,
    u: "url",
  })).replace(/=+$/, "");
  assert.equal(t.verify(`${forged}.${mac}`, 0), undefined);
  assert.equal(t.verify(`${body}.${mac.slice(0, -2)}`, 0), undefined);
  for (const junk of ["", ".", "a.b", "x".repeat(5000), `${body}.!!`]) {
    assert.equal(t.verify(junk, 0), undefined, junk.slice(0, 20));
  }
});

Deno.test("app tokens: each grant's fields are bound (session, app, keypair, use)", () => {
  const t = new AppTokens("secret");
  const a = t.verify(t.sign(grant({ sessionId: "sess-b", use: "cookie" })), 0);
  assert.equal(a?.sessionId, "sess-b");
  assert.equal(a?.use, "cookie");
  assert.notEqual(t.sign(grant()), t.sign(grant({ accessKey: "AKIA2" })));
});
