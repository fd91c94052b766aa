/**
 * Server half of tests/bench/gateway.ts, run as its own process: serves the
 * gateway over the stand-in deps on two random ports (serveGateway and plain
 * Deno.serve), prints `{ port, plainPort, sessionId }` as one JSON line on
 * stdout, and exits when stdin closes.
 *
 * @module
 */
import { createGateway } from "../../routes/app.ts";
import { serveGateway } from "../../routes/serve.ts";
import { createStandIn, USER } from "../support/gateway_standin.ts";
import { metrics } from "../../actors/telemetry/mod.ts";

const standIn = createStandIn();
// With the telemetry middleware, as the manager serves it (tracing follows OTEL_DENO).
const app = createGateway(standIn.deps, {
  defaultRateLimit: 1e9,
  telemetry: { registry: metrics },
});
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
console.log(JSON.stringify({
  port: server.port,
  plainPort: plain.addr.port,
  sessionId: created.sessionId,
}));
// The parent closes stdin when it is done measuring.
for await (const _ of Deno.stdin.readable) { /* drain */ }
await Promise.all([server.shutdown(), plain.shutdown()]);
Deno.exit(0);
