// A local stand-in for an OpenTelemetry collector's OTLP/HTTP receiver: POST /v1/traces with OTLP JSON
// (ExportTraceServiceRequest, gzip or not), each span kept in arrival order with its resource's service.name and its
// attributes as plain values. What the tests' traced runtimes export reaches it through the real SDK and exporter.
import { createServer, type Server } from 'node:http';
import { gunzipSync } from 'node:zlib';

export interface OtlpSpan {
  traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number;
  attributes: Record<string, unknown>; links: { traceId: string; spanId: string }[]; service: string;
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  status: number;
}

// SpanKind in OTLP: 1 internal, 2 server, 3 client, 4 producer, 5 consumer
export const KIND = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 } as const;

export interface OtlpReceiver {
  url: string;
  spans: OtlpSpan[];
  readonly requests: number;
  /** Whether `s` descends from `ancestor` (through parent span ids received so far). */
  under(s: OtlpSpan, ancestor: OtlpSpan): boolean;
  close(): Promise<void>;
}

/** With `batchDelayMs`, OTEL_BSP_SCHEDULE_DELAY is that (the SDK's batch span processor reads it when a traced runtime
 *  starts: spans reach the receiver within that time) until close() puts the previous value back. */
export async function startOtlpReceiver(opts: { batchDelayMs?: number } = {}): Promise<OtlpReceiver> {
  const bsp = process.env.OTEL_BSP_SCHEDULE_DELAY;
  const restoreBsp = () => {
    if (opts.batchDelayMs === undefined) return;
    if (bsp === undefined) delete process.env.OTEL_BSP_SCHEDULE_DELAY;
    else process.env.OTEL_BSP_SCHEDULE_DELAY = bsp;
  };
  if (opts.batchDelayMs !== undefined) process.env.OTEL_BSP_SCHEDULE_DELAY = String(opts.batchDelayMs);
  const spans: OtlpSpan[] = [];
  const state = { requests: 0 };
  const value = (v: Record<string, unknown>): unknown => v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : undefined) ?? v.doubleValue ?? v.boolValue;
  const attrs = (list: { key: string; value: Record<string, unknown> }[] = []) => Object.fromEntries(list.map((a) => [a.key, value(a.value)]));
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces' || !String(req.headers['content-type']).startsWith('application/json')) {
        res.writeHead(404).end();
        return;
      }
      state.requests++;
      const raw = Buffer.concat(chunks);
      const body = JSON.parse((req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8'));
      for (const rs of body.resourceSpans ?? []) {
        const service = String(attrs(rs.resource?.attributes)['service.name']);
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) {
            spans.push({
              traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId || undefined, name: s.name, kind: s.kind, attributes: attrs(s.attributes),
              links: (s.links ?? []).map((l: OtlpSpan) => ({ traceId: l.traceId, spanId: l.spanId })), service, status: Number(s.status?.code ?? 0),
            });
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`, spans,
    get requests() { return state.requests; },
    under(s, ancestor) {
      const byId = new Map(spans.map((x) => [x.spanId, x]));
      for (let p = s.parentSpanId ? byId.get(s.parentSpanId) : undefined, hops = 0; p && hops < 100; p = p.parentSpanId ? byId.get(p.parentSpanId) : undefined, hops++) if (p.spanId === ancestor.spanId) return true;
      return false;
    },
    close: () => {
      restoreBsp();
      return new Promise((r) => server.close(() => r()));
    },
  };
}
