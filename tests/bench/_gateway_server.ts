/**
 * Worker half of tests/bench/gateway.ts: serves the gateway over the
 * stand-in deps on two random ports (serveGateway and plain Deno.serve), on its own thread, and posts
 * `{ port, sessionId }` back.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { createGateway } from "../../routes/app.ts";
import { serveGateway } from "../../routes/serve.ts";
import { createStandIn, USER } from "../support/gateway_standin.ts";

const standIn = createStandIn();
const app = createGateway(standIn.deps, { defaultRateLimit: 1e9 });
const owner = {
  accessKey: USER.accessKey,
  requester: USER.accessKey,
  isAdmin: false,
};
const created = await standIn.deps.sessions.create(owner, {
  image: "python:3.11",
  name: "bench-sess",
  type: "interactive",
  enqueueOnly: false,
  maxWaitSeconds: 0,
  reuseIfExists: true,
  config: {
    resources: {},
    resourceOpts: {},
    mounts: [],
    mountMap: {},
    environ: {},
    preopenPorts: [],
  },
});
const server = await serveGateway(app, { hostname: "127.0.0.1", port: 0 });
const plain = Deno.serve(
  { port: 0, hostname: "127.0.0.1", onListen() {} },
  app.fetch,
);
self.onmessage = async () => {
  await Promise.all([server.shutdown(), plain.shutdown()]);
  self.postMessage({ stopped: true });
};
self.postMessage({
  port: server.port,
  plainPort: plain.addr.port,
  sessionId: created.sessionId,
});
