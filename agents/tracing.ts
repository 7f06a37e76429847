// Spans, through the OpenTelemetry API only (@opentelemetry/api): what every layer uses to trace its work. The SDK is
// started by the composition root (app/tracing.ts) only when an OTLP endpoint is configured; without it the API's
// tracer is a no-op, so every helper here costs a function call and nothing is recorded, allocated per span or sent.
// Invariants: a span is always ended and records the error it ends with; attributes are bounded (ids, names, counts,
// never prompts, answers or message text); a workflow's spans share one trace whose id is a function of the
// workflow id (workflowTraceId), so anyone who knows the workflow can open its trace, in any process, with no lookup.
import { createHash } from 'node:crypto';
import {
  context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags,
  type Attributes, type Context, type Link, type Span, type SpanContext,
} from '@opentelemetry/api';
import { z } from 'zod';

export { SpanKind, type Span };

const TRACER = 'rolecall';
const tracer = () => trace.getTracer(TRACER);

/** Whether an SDK was started (app/tracing.ts): without it, callers skip the work that only feeds spans. */
let enabled = false;
export const tracingEnabled = (): boolean => enabled;
/** Called by app/tracing.ts once its provider is registered (and with false when it shuts down). */
export function setTracingEnabled(on: boolean): void {
  enabled = on;
}

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  links?: Link[];
  /** The parent context (default: the active one). */
  parent?: Context;
}

/** Runs `fn` in a new active span named `name`; the span ends when `fn` settles, with an error status if it throws. */
export async function withSpan<T>(name: string, opts: SpanOptions, fn: (span: Span) => Promise<T>): Promise<T> {
  if (!enabled) return fn(NOOP_SPAN); // off: no span, no context switch
  return tracer().startActiveSpan(name, { kind: opts.kind ?? SpanKind.INTERNAL, attributes: opts.attributes, links: opts.links }, opts.parent ?? context.active(), async (span) => {
    try {
      return await fn(span);
    } catch (e) {
      span.recordException(e instanceof Error ? e : String(e));
      span.setStatus({ code: SpanStatusCode.ERROR, message: e instanceof Error ? e.message.slice(0, 300) : String(e).slice(0, 300) });
      throw e;
    } finally {
      span.end();
    }
  });
}

const INVALID: SpanContext = { traceId: '00000000000000000000000000000000', spanId: '0000000000000000', traceFlags: TraceFlags.NONE };
const NOOP_SPAN: Span = trace.wrapSpanContext(INVALID);

// ---- one trace per workflow ----

const hex = (s: string, chars: number) => createHash('sha256').update(s).digest('hex').slice(0, chars);

/** The trace id of a workflow (32 hex digits): every step of the workflow is traced in it. */
export const workflowTraceId = (workflowId: string): string => hex(`rolecall-workflow:${workflowId}`, 32);
/** The span id of a workflow's root span (16 hex digits). */
export const workflowSpanId = (workflowId: string): string => hex(`rolecall-workflow-span:${workflowId}`, 16);
/** The span id of one run of a step (16 hex digits): the console links a step to it. */
export const stepSpanId = (stepId: string, revision: number, run: number): string => hex(`rolecall-step:${stepId}:r${revision}:n${run}`, 16);

/** Ids the SDK's id generator hands out to the next span started (app/tracing.ts installs the generator). */
let forced: { traceId?: string; spanId?: string } | undefined;
export const forcedIds = { traceId: () => forced?.traceId, spanId: () => forced?.spanId };

/** Starts a span with the given ids (the SDK asks for them synchronously inside startSpan). */
function startWithIds(ids: { traceId?: string; spanId: string }, name: string, opts: SpanOptions & { startTime?: Date }): Span {
  forced = ids;
  try {
    return tracer().startSpan(name, { kind: opts.kind ?? SpanKind.INTERNAL, attributes: opts.attributes, links: opts.links, startTime: opts.startTime, root: ids.traceId !== undefined }, opts.parent ?? context.active());
  } finally {
    forced = undefined;
  }
}

/** The workflow's root span as a remote parent: spans started in it join the workflow's trace. */
export function workflowContext(workflowId: string, base: Context = context.active()): Context {
  return trace.setSpanContext(base, { traceId: workflowTraceId(workflowId), spanId: workflowSpanId(workflowId), traceFlags: TraceFlags.SAMPLED, isRemote: true });
}

/** Records the workflow's root span (once, when the workflow is inserted): its ids are the workflow's, and it links to
 *  the span that created it (the intake job, in the trace of the chat event). */
export function recordWorkflowSpan(workflowId: string, attributes: Attributes): void {
  if (!enabled) return;
  const creator = trace.getSpanContext(context.active());
  const span = startWithIds({ traceId: workflowTraceId(workflowId), spanId: workflowSpanId(workflowId) }, 'workflow', {
    attributes: { 'rolecall.workflow.id': workflowId, ...attributes },
    links: creator && trace.isSpanContextValid(creator) ? [{ context: creator, attributes: { 'rolecall.link': 'created_by' } }] : [],
    parent: ROOT_CONTEXT,
  });
  span.end();
}

/** Runs one run of a step in its span, in the workflow's trace: a child of the queue hop that brought it when that hop
 *  is already in the workflow's trace (a step that follows another), else a child of the workflow's root span with a
 *  link to the hop (a step started by a button press or by intake, whose traces are the chat events'). */
export async function withStepSpan<T>(where: { workflowId: string; stepId: string; revision: number; run: number; roleId?: string }, fn: () => Promise<T>): Promise<T> {
  if (!enabled) return fn();
  const hop = trace.getSpanContext(context.active());
  const traceId = workflowTraceId(where.workflowId);
  const inWorkflow = hop?.traceId === traceId;
  const span = startWithIds({ spanId: stepSpanId(where.stepId, where.revision, where.run) }, `step ${where.roleId ?? ''}`.trim(), {
    attributes: { 'rolecall.workflow.id': where.workflowId, 'rolecall.step.id': where.stepId, 'rolecall.step.revision': where.revision, 'rolecall.step.run': where.run, ...(where.roleId ? { 'rolecall.role.id': where.roleId } : {}) },
    links: hop && !inWorkflow && trace.isSpanContextValid(hop) ? [{ context: hop, attributes: { 'rolecall.link': 'queued_by' } }] : [],
    parent: inWorkflow ? context.active() : workflowContext(where.workflowId),
  });
  return context.with(trace.setSpan(context.active(), span), async () => {
    try {
      return await fn();
    } catch (e) {
      span.recordException(e instanceof Error ? e : String(e));
      span.setStatus({ code: SpanStatusCode.ERROR, message: e instanceof Error ? e.message.slice(0, 300) : String(e).slice(0, 300) });
      throw e;
    } finally {
      span.end();
    }
  });
}

// ---- carrying a trace through the queue ----

/** W3C trace context as carried in a queue job: `traceparent` (version-traceid-spanid-flags) and `tracestate`. */
export const TraceCarrierSchema = z.object({
  traceparent: z.string().regex(/^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/),
  tracestate: z.string().max(512).optional(),
}).strict();
export type TraceCarrier = z.infer<typeof TraceCarrierSchema>;

/** The active context as a carrier (undefined when tracing is off or nothing is active). */
export function injectTraceContext(ctx: Context = context.active()): TraceCarrier | undefined {
  if (!enabled) return undefined;
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  const parsed = TraceCarrierSchema.safeParse(carrier);
  return parsed.success ? parsed.data : undefined;
}

/** The context a carrier names (validated: anything malformed is ignored, and the job starts a new trace). */
export function extractTraceContext(carrier: unknown): Context {
  const parsed = TraceCarrierSchema.safeParse(carrier);
  return parsed.success ? propagation.extract(ROOT_CONTEXT, parsed.data) : ROOT_CONTEXT;
}

/** trace_id and span_id of the active span, for log lines (empty when there is none). */
export function activeTraceIds(): { trace_id: string; span_id: string } | undefined {
  if (!enabled) return undefined;
  const sc = trace.getSpanContext(context.active());
  return sc && trace.isSpanContextValid(sc) ? { trace_id: sc.traceId, span_id: sc.spanId } : undefined;
}
