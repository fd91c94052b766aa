import { assertEquals } from "../../tests/support/assert.ts";
import { describeHttpFailure, describeNetworkError } from "./errors.ts";

/** What Deno's fetch throws: a TypeError whose cause holds the transport's text. */
const fetchError = (text: string) =>
  new TypeError("fetch failed", {
    cause: new Error(`error sending request for url (x): ${text}`),
  });

Deno.test("network failures name the URL and the real cause", () => {
  const url = "http://127.0.0.1:8081";
  assertEquals(
    describeNetworkError(
      fetchError(
        "client error (Connect): tcp connect error: Connection refused (os error 111)",
      ),
      url,
    ),
    "cannot reach http://127.0.0.1:8081: connection refused (is the cluster running? deno task start)",
  );
  assertEquals(
    describeNetworkError(
      fetchError(
        "client error (Connect): dns error: failed to lookup address information: Name or service not known",
      ),
      "http://bai.invalid:8081",
    ),
    "cannot reach http://bai.invalid:8081: the host name bai.invalid does not resolve",
  );
  assertEquals(
    describeNetworkError(
      fetchError(
        "client error (Connect): received corrupt message of type InvalidContentType",
      ),
      "https://127.0.0.1:8081",
    ),
    "cannot reach https://127.0.0.1:8081: TLS failed (received corrupt message of type InvalidContentType)",
  );
  assertEquals(
    describeNetworkError(
      new DOMException("Signal timed out.", "TimeoutError"),
      url,
    ),
    "http://127.0.0.1:8081 did not answer in time",
  );
  assertEquals(
    describeNetworkError(new TypeError("something new"), url),
    "cannot reach http://127.0.0.1:8081: something new",
  );
});

Deno.test("HTTP failures: problem name, title, msg; data only without a msg", () => {
  const problem = (p: Record<string, unknown>) =>
    describeHttpFailure("POST /session", 400, "Bad Request", JSON.stringify(p));
  assertEquals(
    problem({
      type: "https://api.backend.ai/probs/invalid-api-params",
      title: "Missing or invalid API parameters.",
      msg: "Unknown image: nope",
      data: { image: "nope" },
    }),
    "POST /session → 400 invalid-api-params: Missing or invalid API parameters. Unknown image: nope",
  );
  assertEquals(
    problem({
      type: "https://api.backend.ai/probs/invalid-api-params",
      title: "Missing or invalid API parameters.",
      data: [{ path: "name", message: "required" }],
    }),
    "POST /session → 400 invalid-api-params: Missing or invalid API parameters. (name: required)",
  );
  assertEquals(
    describeHttpFailure(
      "GET /x",
      502,
      "Bad Gateway",
      "<html>\n upstream  down</html>",
    ),
    "GET /x → 502 Bad Gateway: <html> upstream down</html>",
  );
  assertEquals(
    describeHttpFailure("GET /x", 500, "Internal Server Error", ""),
    "GET /x → 500 Internal Server Error",
  );
});
