import assert from "node:assert/strict";
import { parseServicePorts, ServicePortError } from "./service_ports.ts";

Deno.test("service ports: Backend.AI's label format", () => {
  assert.deepEqual(parseServicePorts(""), []);
  assert.deepEqual(parseServicePorts("jupyter:http:8080"), [
    { name: "jupyter", protocol: "http", ports: [8080] },
  ]);
  assert.deepEqual(
    parseServicePorts("jupyter:http:8080, ssh-x:tcp:[2200,2201],term:pty:3000"),
    [
      { name: "jupyter", protocol: "http", ports: [8080] },
      { name: "ssh-x", protocol: "tcp", ports: [2200, 2201] },
      { name: "term", protocol: "pty", ports: [3000] },
    ],
  );
  assert.deepEqual(
    parseServicePorts("mine:preopen:9000")[0].protocol,
    "preopen",
  );
});

Deno.test("service ports: malformed labels are refused", () => {
  for (
    const bad of [
      "jupyter",
      "jupyter:http",
      "jupyter:ftp:21",
      "a:http:0",
      "a:http:70000",
      "a:http:80,b:tcp:80",
      "a b:http:80",
      "a:http:[80,",
    ]
  ) {
    assert.throws(() => parseServicePorts(bad), ServicePortError, bad);
  }
});
