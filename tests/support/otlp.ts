/**
 * A small OTLP/HTTP receiver for tests: accepts `POST /v1/traces` (and
 * `/v1/metrics`, `/v1/logs`, answered and dropped) in the `http/json`
 * protocol (`OTEL_EXPORTER_OTLP_PROTOCOL=http/json`, which Deno's built-in
 * exporter speaks) and keeps the spans, decoded, with the service that
 * sent them.
 *
 * @module
 */

/** One received span, flattened. */
export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client. */
  kind: number;
  attributes: Record<string, unknown>;
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  status: number;
  events: string[];
  startNs: bigint;
  endNs: bigint;
}

/** A running receiver. */
export interface OtlpReceiver {
  /** `http://127.0.0.1:PORT`, for `OTEL_EXPORTER_OTLP_ENDPOINT`. */
  endpoint: string;
  spans: ReceivedSpan[];
  /** Requests by path (for a check that the exporter spoke at all). */
  requests: Map<string, number>;
  /** The environment that makes a Deno process export here. */
  env(service: string): Record<string, string>;
  close(): Promise<void>;
}

type AnyValue = {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
};

function valueOf(v: AnyValue | undefined): unknown {
  if (!v) return undefined;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  return undefined;
}

function attrs(
  list: { key: string; value: AnyValue }[] | undefined,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const a of list ?? []) out[a.key] = valueOf(a.value);
  return out;
}

/** Ids arrive hex (OTLP/JSON); base64 is accepted too, in case. */
function hexId(id: string | undefined, bytes: number): string {
  if (!id) return "";
  if (new RegExp(`^[0-9a-f]{${bytes * 2}}$`).test(id)) return id;
  try {
    const raw = atob(id);
    return [...raw].map((c) => c.charCodeAt(0).toString(16).padStart(2, "0"))
      .join("");
  } catch {
    return id;
  }
}

// deno-lint-ignore no-explicit-any
function decodeTraces(body: any, into: ReceivedSpan[]): void {
  for (const rs of body?.resourceSpans ?? []) {
    const service = String(
      attrs(rs.resource?.attributes)["service.name"] ?? "",
    );
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        into.push({
          service,
          traceId: hexId(s.traceId, 16),
          spanId: hexId(s.spanId, 8),
          parentSpanId: hexId(s.parentSpanId, 8),
          name: s.name,
          kind: Number(s.kind ?? 0),
          attributes: attrs(s.attributes),
          status: Number(s.status?.code ?? 0),
          events: (s.events ?? []).map((e: { name: string }) => e.name),
          startNs: BigInt(s.startTimeUnixNano ?? 0),
          endNs: BigInt(s.endTimeUnixNano ?? 0),
        });
      }
    }
  }
}

/** Starts a receiver on a free loopback port. */
export function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const requests = new Map<string, number>();
  const { promise, resolve } = Promise.withResolvers<OtlpReceiver>();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen(addr) {
      const endpoint = `http://127.0.0.1:${addr.port}`;
      resolve({
        endpoint,
        spans,
        requests,
        env: (service) => ({
          OTEL_DENO: "true",
          OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
          OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
          OTEL_SERVICE_NAME: service,
          // Export soon after a span ends, not every 5 s.
          OTEL_BSP_SCHEDULE_DELAY: "200",
          OTEL_DENO_CONSOLE: "ignore",
          OTEL_METRIC_EXPORT_INTERVAL: "600000",
        }),
        close: () => server.shutdown(),
      });
    },
  }, async (req) => {
    const path = new URL(req.url).pathname;
    requests.set(path, (requests.get(path) ?? 0) + 1);
    const text = await req.text();
    if (path === "/v1/traces") {
      try {
        decodeTraces(JSON.parse(text), spans);
      } catch {
        return new Response("bad json", { status: 400 });
      }
    }
    return Response.json({});
  });
  return promise;
}

/** The spans of one trace, by name (the first of each name). */
export function byName(spans: ReceivedSpan[]): Map<string, ReceivedSpan> {
  const m = new Map<string, ReceivedSpan>();
  for (const s of spans) if (!m.has(s.name)) m.set(s.name, s);
  return m;
}

/**
 * An OTLP/HTTP sink for benchmarks: answers every export 200 without
 * decoding it (the default `http/protobuf`), so the exporting processes pay
 * their full cost and the sink almost none. Counts the bytes received.
 */
export function startOtlpSink(): Promise<{
  endpoint: string;
  bytes: () => number;
  env(service: string): Record<string, string>;
  close(): Promise<void>;
}> {
  let bytes = 0;
  const { promise, resolve } = Promise.withResolvers<
    Awaited<ReturnType<typeof startOtlpSink>>
  >();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen(addr) {
      const endpoint = `http://127.0.0.1:${addr.port}`;
      resolve({
        endpoint,
        bytes: () => bytes,
        env: (service) => ({
          OTEL_DENO: "true",
          OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
          OTEL_SERVICE_NAME: service,
          OTEL_DENO_CONSOLE: "ignore",
        }),
        close: () => server.shutdown(),
      });
    },
  }, async (req) => {
    bytes += (await req.arrayBuffer()).byteLength;
    return new Response(null, {
      headers: { "content-type": "application/x-protobuf" },
    });
  });
  return promise;
}
