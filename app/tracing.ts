// Starts the OpenTelemetry SDK when traces are configured (the standard OTEL_* variables, parsed in app/config.ts):
// spans go over OTLP/HTTP (JSON) to a collector, in batches. Invariant: with no endpoint (or OTEL_SDK_DISABLED=true)
// nothing of the SDK is even loaded — the packages are imported here, dynamically, only when tracing is on — and the
// API's no-op tracer stays in place (agents/tracing.ts skips its work). Started before anything else of the runtime,
// stopped (flushing what is buffered) last.
import type { Sampler } from '@opentelemetry/sdk-trace';
import { forcedIds, setTracingEnabled } from '../agents/tracing';
import type { Logger } from '../orchestrator/log';

export interface TracingOptions {
  /** Where spans are POSTed (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, or OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces). */
  url: string;
  serviceName: string;
  /** OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG. */
  sampler: { name: TracesSamplerName; ratio: number };
  /** Set on every span's resource: server, worker or all. */
  processKind: string;
  /** Spans are sent at once (tests; default: batched, per OTEL_BSP_*). */
  sendImmediately?: boolean;
}

export const TRACES_SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;
export type TracesSamplerName = (typeof TRACES_SAMPLERS)[number];

export interface Tracing {
  describe: string;
  /** Flushes buffered spans and unregisters the SDK. */
  shutdown(): Promise<void>;
}

/** Undefined (and nothing loaded) when `opts` is undefined: tracing is off. */
export async function startTracing(opts: TracingOptions | undefined, log: Logger): Promise<Tracing | undefined> {
  if (!opts) return undefined;
  const [api, sdk, { AsyncLocalStorageContextManager }, { W3CTraceContextPropagator }, { resourceFromAttributes, defaultResource }, { OTLPTraceExporter }] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/sdk-trace'),
    import('@opentelemetry/context-async-hooks'),
    import('@opentelemetry/core'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/exporter-trace-otlp-http'),
  ]);
  const random = new sdk.RandomIdGenerator();
  const exporter = new OTLPTraceExporter({ url: opts.url });
  const provider = new sdk.TracerProvider({
    resource: defaultResource().merge(resourceFromAttributes({ 'service.name': opts.serviceName, 'rolecall.process': opts.processKind })),
    sampler: samplerOf(sdk, opts.sampler),
    // Workflow and step spans get ids derived from the workflow (agents/tracing.ts); every other span, random ones.
    idGenerator: {
      generateTraceId: () => forcedIds.traceId() ?? random.generateTraceId(),
      generateSpanId: () => forcedIds.spanId() ?? random.generateSpanId(),
    },
    spanProcessors: [opts.sendImmediately ? new sdk.SimpleSpanProcessor({ exporter }) : new sdk.BatchSpanProcessor({ exporter })],
  });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  api.context.setGlobalContextManager(contextManager);
  api.propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  api.trace.setGlobalTracerProvider(provider);
  setTracingEnabled(true);
  const describe = `OTLP/HTTP to ${opts.url} as ${opts.serviceName} (sampler ${opts.sampler.name}${opts.sampler.name.endsWith('traceidratio') ? ` ${opts.sampler.ratio}` : ''})`;
  log.info(`Traces: ${describe}`);
  return {
    describe,
    async shutdown() {
      setTracingEnabled(false);
      await provider.shutdown().catch((e: unknown) => log.warn('traces: could not flush the last spans', { error: String(e) }));
      api.trace.disable();
      api.propagation.disable();
      api.context.disable();
    },
  };
}

function samplerOf(sdk: typeof import('@opentelemetry/sdk-trace'), s: TracingOptions['sampler']): Sampler {
  const ratio = new sdk.TraceIdRatioBasedSampler(s.ratio);
  switch (s.name) {
    case 'always_on': return new sdk.AlwaysOnSampler();
    case 'always_off': return new sdk.AlwaysOffSampler();
    case 'traceidratio': return ratio;
    case 'parentbased_always_on': return new sdk.ParentBasedSampler({ root: new sdk.AlwaysOnSampler() });
    case 'parentbased_always_off': return new sdk.ParentBasedSampler({ root: new sdk.AlwaysOffSampler() });
    case 'parentbased_traceidratio': return new sdk.ParentBasedSampler({ root: ratio });
  }
}
