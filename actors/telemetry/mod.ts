/**
 * Generic telemetry for processes built on the actor runtime: a metrics
 * registry with the Prometheus text format (bounded label sets), a
 * structured logger (JSON with `LOG_FORMAT=json`), and tracing helpers
 * over `@opentelemetry/api` for Deno's built-in OpenTelemetry
 * (`OTEL_DENO=true`), off and free by default. No domain words: the
 * platform's own instruments live with the code they measure.
 *
 * ```ts ignore
 * import { metrics, withSpan, createLogger } from "../telemetry/mod.ts";
 * const jobs = metrics.counter("jobs_total", { help: "Jobs run.", labels: ["result"] });
 * await withSpan("job", { "job.id": id }, async () => { ... });
 * jobs.inc({ result: "ok" });
 * ```
 *
 * @module
 */

export {
  Counter,
  DEFAULT_BUCKETS,
  Gauge,
  Histogram,
  type HistogramOptions,
  type Labels,
  type MetricOptions,
  OVERFLOW,
} from "./instruments.ts";
export {
  type Collector,
  formatValue,
  metrics,
  PROMETHEUS_CONTENT_TYPE,
  Registry,
  type RegistryOptions,
} from "./registry.ts";
export {
  contextOf,
  currentTraceparent,
  installRuntimeTracing,
  inTrace,
  recordError,
  type SpanAttributes,
  type SpanHandle,
  type SpanKindName,
  type SpanOptions,
  startSpan,
  traceparentOf,
  TRACING,
  truncateId,
  withSpan,
} from "./tracing.ts";
export {
  captureConsole,
  createLogger,
  currentIds,
  formatEvent,
  type Level,
  LOG_FORMAT,
  type LogFields,
  type LogFormat,
  type Logger,
  type LoggerOptions,
  runtimeLogger,
} from "./logger.ts";
export {
  type ActorSystemMetricsOptions,
  collectActorSystem,
  collectPeers,
  collectProcess,
  type PeerSample,
  type PeerSource,
} from "./runtime_metrics.ts";
export {
  metricsResponse,
  type MetricsServer,
  sameSecret,
  serveMetrics,
  type ServeMetricsOptions,
} from "./serve.ts";
