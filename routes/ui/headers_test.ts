import {
  assert,
  assertEquals,
  assertMatch,
} from "../../tests/support/assert.ts";
import { contentSecurityPolicy, CSP, cspOrigin } from "./headers.ts";

Deno.test("CSP: self only, no inline script or style, by default", () => {
  assertMatch(CSP, /script-src 'self';/);
  assertMatch(CSP, /style-src 'self';/);
  assertMatch(CSP, /connect-src 'self';/);
  assert(!CSP.includes("unsafe-inline"));
});

Deno.test("CSP: connect-src adds storage origins, only as origins", () => {
  const csp = contentSecurityPolicy({
    connect: [
      "http://127.0.0.1:6021",
      "http://127.0.0.1:6021/upload", // a path: its origin only
      "http://127.0.0.1:6021", // once
      "javascript:alert(1)",
      "not a url",
      "*",
    ],
  });
  assertMatch(csp, /connect-src 'self' http:\/\/127\.0\.0\.1:6021;/);
  assertEquals(
    cspOrigin("https://store.example:8443/x?y"),
    "https://store.example:8443",
  );
  assertEquals(cspOrigin("ftp://x"), undefined);
});

Deno.test("CSP: a style nonce widens style-src for nonce-carrying elements only", () => {
  const csp = contentSecurityPolicy({ styleNonce: "abc+/=" });
  assertMatch(csp, /style-src 'self' 'nonce-abc\+\/='/);
  assertMatch(csp, /script-src 'self';/);
  // Junk that could end the directive is ignored.
  const bad = contentSecurityPolicy({ styleNonce: "x'; script-src *" });
  assertMatch(bad, /style-src 'self';/);
  assert(!bad.includes("script-src *"));
});
