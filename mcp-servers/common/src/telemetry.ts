// OpenTelemetry for the MCP servers: a tracer and a meter exporting OTLP/HTTP to the collector when
// OTEL_EXPORTER_OTLP_ENDPOINT is set (no export otherwise). Providers are created per server, never registered
// globally, so tests can hand in in-memory exporters.
import type { Meter, Tracer } from '@opentelemetry/api';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  MeterProvider,
  type MetricReader,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BatchSpanProcessor,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';

export interface Telemetry {
  tracer: Tracer;
  meter: Meter;
  /** Where spans and metrics go, for the startup log line. */
  destination: string;
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

export interface TelemetryOptions {
  serviceName: string;
  serviceVersion: string;
  env?: NodeJS.ProcessEnv;
  /** Tests: export spans here, synchronously, instead of OTLP. */
  spanExporter?: SpanExporter;
  /** Tests: read metrics here instead of OTLP. */
  metricReader?: MetricReader;
}

export function createTelemetry(o: TelemetryOptions): Telemetry {
  const env = o.env ?? process.env;
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT?.replace(/\/$/, '');
  const resource = resourceFromAttributes({
    'service.name': o.serviceName,
    'service.version': o.serviceVersion,
  });

  const spanProcessors: SpanProcessor[] = [];
  if (o.spanExporter) spanProcessors.push(new SimpleSpanProcessor({ exporter: o.spanExporter }));
  else if (endpoint) {
    spanProcessors.push(
      new BatchSpanProcessor({
        exporter: new OTLPTraceExporter({ url: `${endpoint}/v1/traces` }),
        scheduledDelayMillis: Number(env.OTEL_BSP_SCHEDULE_DELAY ?? 1000),
      }),
    );
  }
  const readers: MetricReader[] = [];
  if (o.metricReader) readers.push(o.metricReader);
  else if (endpoint) {
    readers.push(
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({
          url: `${endpoint}/v1/metrics`,
          // Prometheus (through the collector's exporter) needs cumulative sums.
          temporalityPreference: AggregationTemporality.CUMULATIVE,
        }),
        exportIntervalMillis: Number(env.OTEL_METRIC_EXPORT_INTERVAL ?? 10_000),
      }),
    );
  }
  const tracerProvider = new TracerProvider({ resource, spanProcessors });
  const meterProvider = new MeterProvider({ resource, readers });
  return {
    tracer: tracerProvider.getTracer(o.serviceName, o.serviceVersion),
    meter: meterProvider.getMeter(o.serviceName, o.serviceVersion),
    destination: o.spanExporter
      ? 'in-memory'
      : endpoint
        ? `OTLP ${endpoint}`
        : 'none (OTEL_EXPORTER_OTLP_ENDPOINT unset)',
    async flush() {
      await Promise.all([tracerProvider.forceFlush(), meterProvider.forceFlush()]);
    },
    async shutdown() {
      await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]);
    },
  };
}
