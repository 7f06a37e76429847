// OpenTelemetry traces over real OTLP/HTTP: an in-process stand-in for the collector (a local HTTP server decoding the
// exporter's OTLP JSON) receives what the SDK sends. A workflow in the engine (real PostgreSQL, Redis, BullMQ worker,
// fake OpenAI, recording chat) produces spans of each kind — workflow, queue hop (send → process, parent and child
// across Redis), step, model call (GenAI attributes), tool call, chat call — in the workflow's own trace; an HTTP
// request continues its caller's traceparent; a malformed carrier in a job starts a new trace; and with no endpoint
// configured nothing of the SDK is loaded or started.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../app/config';
import { createHttpRoot, httpTracing } from '../../app/http';
import { startTracing } from '../../app/tracing';
import { traceUrlOf } from '../../app/admin';
import { extractTraceContext, tracingEnabled, workflowSpanId, workflowTraceId } from '../../agents/tracing';
import { createLogger } from '../../orchestrator/log';
import { tracedToolRunner } from '../../orchestrator/traced';
import { defaultScript } from '../support/fake-openai';
import { buttonsOf, engineSuite } from '../support/engine';
import { waitFor } from '../support/wait';
import { KIND, startOtlpReceiver, type OtlpReceiver, type OtlpSpan } from '../support/otlp-receiver';
import { trace } from '@opentelemetry/api';

let otlp: OtlpReceiver;
beforeAll(async () => { otlp = await startOtlpReceiver({ batchDelayMs: 100 }); }); // spans reach it within 0.1 s
afterAll(async () => { await otlp?.close(); });

const suite = engineSuite();

describe('a workflow over OTLP/HTTP', () => {
  it('sends spans of each kind, in the workflow\'s trace, with parent and child across the queue hop', async () => {
    const e = await suite.start({
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_SERVICE_NAME: 'rolecall-test' },
      // the Business Analyst first calls a tool (list_artifacts), then answers
      script: (req, n) => {
        const body = req as typeof req & { tools?: unknown[] };
        if (body.tools?.length && !req.messages.some((m) => m.role === 'tool')) return { toolCalls: [{ id: `call-${n}`, name: 'list_artifacts', arguments: '{}' }] };
        return defaultScript(req, n);
      },
    });
    expect(tracingEnabled()).toBe(true);
    const t = await e.mention('we need a login page with SSO for our customer portal');
    await e.press('approve', buttonsOf(await e.waitForGate(t.threadTs, 1)).approve!);
    await e.waitForGate(t.threadTs, 2);
    const wf = (await e.workflow(t.threadTs))!;
    const traceId = workflowTraceId(wf.id);
    await waitFor(() => otlp.spans.filter((s) => s.traceId === traceId && s.name.startsWith('step ')).length >= 2, 'two step spans received');
    await e.close(); // flushes the rest

    const inTrace = otlp.spans.filter((s) => s.traceId === traceId);
    const byId = new Map(otlp.spans.map((s) => [s.spanId, s]));
    const one = (pred: (s: OtlpSpan) => boolean, what: string) => {
      const found = otlp.spans.filter(pred);
      expect(found.length, what).toBeGreaterThanOrEqual(1);
      return found[0]!;
    };
    expect(new Set(otlp.spans.map((s) => s.service))).toEqual(new Set(['rolecall-test']));

    // the workflow's root span: deterministic ids, linked to the intake job that created it
    const root = one((s) => s.name === 'workflow' && s.traceId === traceId, 'workflow span');
    expect(root.spanId).toBe(workflowSpanId(wf.id));
    expect(root.parentSpanId).toBeUndefined();
    expect(root.attributes['rolecall.workflow.id']).toBe(wf.id);
    const intake = one((s) => s.name === 'process intake', 'intake consumer span');
    expect(root.links).toContainEqual({ traceId: intake.traceId, spanId: intake.spanId });
    // intake's queue hop: the consumer is the child of the producer, across Redis
    const sentIntake = byId.get(intake.parentSpanId!)!;
    expect(sentIntake).toMatchObject({ name: 'send intake', kind: KIND.producer, traceId: intake.traceId });
    expect(intake.kind).toBe(KIND.consumer);

    // the first step: queued from inside the workflow's trace, so send step → process step → step, parent to child
    const ba = one((s) => s.name === 'step business_analyst' && s.traceId === traceId, 'business analyst step span');
    const processed = byId.get(ba.parentSpanId!)!;
    expect(processed).toMatchObject({ name: 'process step', kind: KIND.consumer, traceId });
    const sent = byId.get(processed.parentSpanId!)!;
    expect(sent).toMatchObject({ name: 'send step', kind: KIND.producer, traceId, parentSpanId: root.spanId });
    expect(ba.attributes).toMatchObject({ 'rolecall.workflow.id': wf.id, 'rolecall.role.id': 'business_analyst' });

    // inside the step: model calls (GenAI conventions), the tool call, the chat posts
    const under = (s: OtlpSpan, ancestor: OtlpSpan): boolean => {
      for (let p = s.parentSpanId && byId.get(s.parentSpanId); p; p = p.parentSpanId ? byId.get(p.parentSpanId) : undefined) if (p.spanId === ancestor.spanId) return true;
      return false;
    };
    const model = one((s) => s.name.startsWith('chat ') && s.kind === KIND.client && under(s, ba) && (s.attributes['gen_ai.usage.output_tokens'] as number) > 0, 'model call span');
    expect(model.attributes).toMatchObject({ 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.system': 'openai' });
    expect(model.attributes['gen_ai.request.model']).toEqual(expect.any(String));
    expect(model.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
    expect(model.attributes['rolecall.cost_usd']).toEqual(expect.any(Number));
    const tool = one((s) => s.name === 'execute_tool list_artifacts' && under(s, ba), 'tool call span');
    expect(tool.attributes).toMatchObject({ 'gen_ai.tool.name': 'list_artifacts', 'rolecall.step.id': wf.steps[0]!.id });
    one((s) => s.name === 'slack post' && s.kind === KIND.client && under(s, ba), 'chat post span');

    // the second step was queued by the approval (another trace): a child of the workflow's root, linked to its hop
    const ta = one((s) => s.name === 'step technical_architect' && s.traceId === traceId, 'architect step span');
    if (ta.parentSpanId === root.spanId) expect(ta.links).toHaveLength(1);
    else expect(byId.get(ta.parentSpanId!)?.name).toBe('process step');
    // nothing of the workflow's spans carries message text
    expect(JSON.stringify(inTrace)).not.toContain('login page with SSO');
  });
});

describe('HTTP requests and tools', () => {
  it('continue the caller\'s traceparent with the route pattern; tool calls are spans', async () => {
    const tracing = await startTracing({ url: `${otlp.url}/v1/traces`, serviceName: 'rolecall-http', sampler: { name: 'parentbased_always_on', ratio: 1 }, processKind: 'server', sendImmediately: true }, createLogger('silent'));
    try {
      const edge = new Hono();
      edge.get('/things/:id', (c) => c.json({ id: c.req.param('id') }));
      const app = createHttpRoot([], [edge], createLogger('silent'), [httpTracing()]);
      const parent = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' };
      const res = await app.request('/things/secret-id-123', { headers: { traceparent: `00-${parent.traceId}-${parent.spanId}-01` } });
      expect(res.status).toBe(200);
      const runner = tracedToolRunner({ specs: async () => [], call: async () => 'ok' }, { workflowId: 'w1', stepId: 's1' });
      expect(await runner.call({ role_id: 'developer' } as never, 'get_artifact', {})).toBe('ok');
      await waitFor(() => otlp.spans.some((s) => s.service === 'rolecall-http' && s.name === 'execute_tool get_artifact'), 'tool span');
      const http = otlp.spans.find((s) => s.service === 'rolecall-http' && s.kind === KIND.server)!;
      expect(http).toMatchObject({ name: 'GET /things/:id', traceId: parent.traceId, parentSpanId: parent.spanId });
      expect(http.attributes).toMatchObject({ 'http.route': '/things/:id', 'http.response.status_code': 200, 'http.request.method': 'GET' });
      expect(JSON.stringify(http)).not.toContain('secret-id-123');
      // a caller's malformed or oversized trace headers are ignored: the request is served in a new trace
      const bad = await app.request('/things/2', { headers: { traceparent: '00-zz-yy-01', tracestate: 'a=b,'.repeat(5000) } });
      expect(bad.status).toBe(200);
      const fresh = await waitFor(() => otlp.spans.find((s) => s.service === 'rolecall-http' && s.kind === KIND.server && s.traceId !== parent.traceId), 'the second request span');
      expect(fresh.parentSpanId).toBeUndefined();
    } finally {
      await tracing!.shutdown();
    }
    expect(tracingEnabled()).toBe(false);
  });

  it('a malformed carrier in a job starts a new trace instead of failing', () => {
    for (const bad of [{ traceparent: 'nope' }, { traceparent: `00-${'0'.repeat(31)}z-${'1'.repeat(16)}-01` }, 'x', 42, { traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`, extra: 1 }]) {
      expect(trace.getSpanContext(extractTraceContext(bad))).toBeUndefined();
    }
  });

  it('the console links a workflow\'s steps to its trace', () => {
    expect(traceUrlOf('http://localhost:16686/trace/{traceId}')('wf-1')).toBe(`http://localhost:16686/trace/${workflowTraceId('wf-1')}`);
    expect(workflowTraceId('wf-1')).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('no endpoint', () => {
  it('configures no tracing, and starting the runtime\'s tracing loads nothing of the SDK', () => {
    expect(loadConfig({}).tracing).toBeUndefined();
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' }).tracing).toBeUndefined();
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).tracing?.url).toBe('http://collector:4318/v1/traces');
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:4318/custom' }).tracing?.url).toBe('http://b:4318/custom');
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'grpc://collector:4317' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT/);
    expect(() => loadConfig({ OTEL_TRACES_SAMPLER: 'sometimes' })).toThrow(/OTEL_TRACES_SAMPLER/);
    // A fresh process: what it resolves while it parses the config and starts tracing without an endpoint. Node >= 22.15
    // (CI's Node 24) watches every import and require with module.registerHooks; older Node (20) with the asynchronous
    // resolve hook of module.register, run in the loader thread and reported over a MessagePort (a last import marks
    // the end of the reports: the port keeps their order), plus the CommonJS cache for anything required.
    const root = path.resolve(__dirname, '../..');
    const script = `
      import * as nodeModule from 'node:module';
      import { MessageChannel } from 'node:worker_threads';
      const seen = [];
      let settled = async () => {};
      if (typeof nodeModule.registerHooks === 'function') {
        nodeModule.registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); seen.push(r.url); return r; } });
      } else {
        const { port1, port2 } = new MessageChannel();
        const hooks = 'let port; export function initialize(d) { port = d.port; } export async function resolve(s, c, next) { const r = await next(s, c); port.postMessage(r.url); return r; }';
        nodeModule.register('data:text/javascript,' + encodeURIComponent(hooks), { data: { port: port2 }, transferList: [port2] });
        port1.on('message', (url) => seen.push(url));
        const END = 'data:text/javascript,export default 1';
        settled = async () => {
          await import(END);
          while (!seen.includes(END)) await new Promise((r) => setTimeout(r, 10));
          port1.close();
          seen.push(...Object.keys(nodeModule.createRequire(import.meta.url).cache));
        };
      }
      const { loadConfig } = await import('./app/config.ts');
      const { startTracing } = await import('./app/tracing.ts');
      const { tracingEnabled } = await import('./agents/tracing.ts');
      const env = process.env.TRACE_TO ? { OTEL_EXPORTER_OTLP_ENDPOINT: process.env.TRACE_TO } : {};
      const tracing = await startTracing(loadConfig(env).tracing, { debug() {}, info() {}, warn() {}, error() {} });
      await tracing?.shutdown();
      await settled();
      console.log(JSON.stringify({ tracing: tracing === undefined, enabled: tracingEnabled(), watched: seen.some((u) => u.includes('/app/tracing.ts')), sdk: seen.filter((u) => /@opentelemetry\\/(sdk-|exporter-|context-async-hooks|resources)/.test(u)) }));
    `;
    const run = (env: Record<string, string> = {}) => {
      const out = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env } });
      expect(out.stderr).toBe('');
      return JSON.parse(out.stdout.trim().split('\n').at(-1)!) as { tracing: boolean; enabled: boolean; watched: boolean; sdk: string[] };
    };
    expect(run()).toEqual({ tracing: true, enabled: false, watched: true, sdk: [] });
    // the same watch sees the SDK's packages once an endpoint is configured
    const on = run({ TRACE_TO: 'http://127.0.0.1:9/' });
    expect(on).toMatchObject({ tracing: false, watched: true });
    expect(on.sdk.join(' ')).toMatch(/@opentelemetry\/sdk-trace/);
    expect(on.sdk.join(' ')).toMatch(/@opentelemetry\/exporter-trace-otlp-http/);
  });
});
