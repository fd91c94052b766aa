import assert from "node:assert/strict";
import {
  appListing,
  imageServicePorts,
  routeToPort,
  servicePortsOf,
} from "./service_ports.ts";

Deno.test("service ports: the image's, then preopen ports by their number", () => {
  assert.deepEqual(servicePortsOf("python-jupyter", [9000, "9001", 8080, 0]), [
    {
      name: "jupyter",
      protocol: "http",
      container_ports: [8080],
      host_ports: [null],
    },
    {
      name: "9000",
      protocol: "preopen",
      container_ports: [9000],
      host_ports: [null],
    },
    {
      name: "9001",
      protocol: "preopen",
      container_ports: [9001],
      host_ports: [null],
    },
  ]);
  assert.deepEqual(servicePortsOf("python"), []);
  assert.deepEqual(imageServicePorts("no-such-image"), []);
});

Deno.test("service ports: image apps start on use, preopen ports are plain TCP", () => {
  const ports = servicePortsOf("python-jupyter", [9000]);
  assert.deepEqual(routeToPort("python-jupyter", ports, "jupyter"), {
    kind: "app",
    app: "jupyter",
    protocol: "http",
  });
  assert.deepEqual(routeToPort("python-jupyter", ports, "9000"), {
    kind: "tcp",
    port: 9000,
    protocol: "preopen",
  });
  assert.equal(routeToPort("python-jupyter", ports, "nope"), undefined);
  assert.equal(
    routeToPort("python-jupyter", ports, "jupyter", 1234),
    "no-such-port",
  );
});

Deno.test("service ports: /apps lists Backend.AI's fields, http with the proxy path", () => {
  const list = appListing(
    servicePortsOf("python-jupyter", [9000]),
    (app) => `/x/apps/S/${app}/`,
  );
  assert.deepEqual(list, [
    {
      name: "jupyter",
      protocol: "http",
      ports: [8080],
      url_template: "http://{host}:{port}/x/apps/S/jupyter/",
    },
    { name: "9000", protocol: "preopen", ports: [9000] },
  ]);
});
