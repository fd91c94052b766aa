import { assertEquals, assertThrows } from "../tests/support/assert.ts";
import {
  computeSignature,
  parseAuthorization,
  parseRequestDate,
  signedContentType,
  SigningKeyCache,
  stringToSign,
  VerifiedSignatures,
} from "./auth.ts";
import { InvalidAuthParams } from "./problems.ts";

Deno.test("parseAuthorization splits type, parameters and credential as API.md says", () => {
  assertEquals(
    parseAuthorization("BackendAI signMethod=HMAC-SHA256, credential=AK:a:b"),
    {
      typeWord: "BackendAI",
      signMethod: "HMAC-SHA256",
      accessKey: "AK",
      signature: "a:b",
    },
  );
  assertEquals(
    parseAuthorization("Sorna signMethod=HMAC-SHA256,credential=AK:SIG")
      .typeWord,
    "Sorna",
  );
  for (
    const bad of [
      "",
      "BackendAI",
      "Token x=y",
      "BackendAI a",
      "BackendAI signMethod=X",
      "BackendAI credential=AK",
    ]
  ) {
    assertThrows(
      () => parseAuthorization(bad),
      InvalidAuthParams,
      undefined,
      bad,
    );
  }
});

Deno.test("parseRequestDate: ISO forms, zones, RFC 1123; key day in the header's own zone", () => {
  const at = Date.UTC(2026, 10, 28, 12, 40, 45);
  assertEquals(parseRequestDate("2026-11-28T12:40:45.215Z"), {
    epochMs: at + 215,
    ymd: "20261128",
  });
  assertEquals(parseRequestDate("2026-11-28T12:40:45.215123+00:00"), {
    epochMs: at + 215,
    ymd: "20261128",
  });
  assertEquals(parseRequestDate("2026-11-28T12:40:45"), {
    epochMs: at,
    ymd: "20261128",
  });
  assertEquals(parseRequestDate("2026-11-29T01:40:45+13:00"), {
    epochMs: at,
    ymd: "20261129",
  });
  assertEquals(parseRequestDate("2026-11-27T23:40:45-1300"), {
    epochMs: at,
    ymd: "20261127",
  });
  assertEquals(parseRequestDate("Sat, 28 Nov 2026 12:40:45 GMT"), {
    epochMs: at,
    ymd: "20261128",
  });
  for (
    const bad of [
      "",
      "tomorrow",
      "2026-13-01T00:00:00Z",
      "2026-11-28T25:00:00Z",
      "Sat, 28 Foo 2026 12:40:45 GMT",
    ]
  ) {
    assertEquals(parseRequestDate(bad), undefined, bad);
  }
});

Deno.test("stringToSign and the derived key match a known answer", () => {
  const input = {
    method: "get",
    target: "/session/abc?x=1",
    date: "2026-11-28T12:40:45.215Z",
    host: "127.0.0.1:8081",
    contentType: signedContentType("Application/JSON; charset=utf-8"),
    versionHeaderName: "x-backendai-version",
    version: "v6.20220315",
    bodyHash:
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  };
  assertEquals(
    stringToSign(input),
    "GET\n/session/abc?x=1\n2026-11-28T12:40:45.215Z\nhost:127.0.0.1:8081\ncontent-type:application/json\n" +
      "x-backendai-version:v6.20220315\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
  assertEquals(signedContentType(null), "application/octet-stream");
  // Known answer computed with Python: hmac/hashlib over the same string and key derivation.
  const sig = computeSignature(
    new SigningKeyCache(),
    "sha256",
    "secret",
    "20261128",
    input,
  );
  assertEquals(
    sig,
    "3b36c0793778f42206c63f4c924fc1b35177a46989917323ea22dad67dd63b38",
  );
});

Deno.test("VerifiedSignatures remembers a signature only with the exact inputs it was verified over", () => {
  const v = new VerifiedSignatures(2);
  const input = {
    method: "GET",
    target: "/session/abc",
    date: "2026-12-01T00:00:00.000Z",
    host: "127.0.0.1:8081",
    contentType: "application/octet-stream",
    versionHeaderName: "x-backendai-version",
    version: "v6.20220315",
    bodyHash: "e3b0",
  };
  v.add("sha256", "secret", input, "sig");
  assertEquals(v.has("sha256", "secret", input, "sig"), true);
  assertEquals(v.has("sha256", "other", input, "sig"), false, "another secret");
  assertEquals(v.has("sha1", "secret", input, "sig"), false, "another hash");
  assertEquals(
    v.has("sha256", "secret", { ...input, target: "/session/abd" }, "sig"),
    false,
    "another request",
  );
  assertEquals(v.has("sha256", "secret", input, "gis"), false);
  v.add("sha256", "secret", { ...input, method: "POST" }, "s2");
  v.add("sha256", "secret", { ...input, method: "PUT" }, "s3"); // full: emptied
  assertEquals(v.has("sha256", "secret", input, "sig"), false, "bounded");
});
