// Spans at the engine's boundaries, as decorators the composition root (app/runtime.ts) puts around the real parts
// only when tracing is on: the queue hop (a PRODUCER span where a job is added, its W3C trace context carried in the
// job's data as `trace`, and a CONSUMER span, its child, where a worker runs it), each run of a step (in its workflow's
// trace, agents/tracing.ts), each chat platform call (a ChatPort operation, and under it each HTTP request the
// platform's client makes: Slack Web API methods, file uploads and downloads, Teams token and file requests) and each
// tool call. The engine's own modules know nothing of them. Invariants: a carrier read back from a job is validated
// (zod, TraceCarrierSchema) and a malformed one only starts a new trace; span attributes are ids, names, kinds,
// counts and status codes — never message text, prompts, tool output, URLs' paths or queries, or tokens.
import { SpanStatusCode } from '@opentelemetry/api';
import type { ToolRunner } from '../agents/agent';
import {
  extractTraceContext, injectTraceContext, SpanKind, TraceCarrierSchema, withSpan, withStepSpan, type TraceCarrier,
} from '../agents/tracing';
import type { ChatPort, ChatPorts } from './chat';
import type { Db } from './db';
import { jobId, type JobData, type JobQueue } from './jobs';
import { withLogContext } from './log';
import { QUEUE_NAME, type JobHandler } from './queue';

/** A job as it travels through Redis: its data plus the trace context of whoever added it. */
export type TracedJobData = JobData & { trace?: TraceCarrier };

const messaging = (data: JobData) => ({
  'messaging.system': 'bullmq',
  'messaging.destination.name': QUEUE_NAME,
  'messaging.message.id': jobId(data),
  'rolecall.job.kind': data.kind,
});

/** Adds each job inside a PRODUCER span ("send <kind>") whose context travels in the job. */
export function tracedJobQueue(inner: JobQueue): JobQueue {
  return {
    ...(inner.wake ? { wake: (data: JobData) => inner.wake!(data) } : {}),
    enqueue: (data) => withSpan(`send ${data.kind}`, { kind: SpanKind.PRODUCER, attributes: { ...messaging(data), 'messaging.operation.type': 'send' } }, async () => {
      const trace = injectTraceContext();
      await inner.enqueue(trace ? Object.assign({}, data, { trace }) : data);
    }),
  };
}

/** A job read back from the PostgreSQL inbox (orchestrator/inbox.ts) with the trace context it was stored with
 *  (validated), so the hop through the inbox stays one trace. */
export function keepCarrier(data: JobData, stored: unknown): JobData {
  const carrier = TraceCarrierSchema.safeParse(stored && typeof stored === 'object' ? (stored as { trace?: unknown }).trace : undefined);
  return carrier.success ? Object.assign({}, data, { trace: carrier.data }) : data;
}

/** Runs each job inside a CONSUMER span ("process <kind>"), the child of the span that added it; a step job's run also
 *  in its step span, in the workflow's trace, and every log line of the job names the workflow (when it has one). */
export function tracedJobHandler(inner: JobHandler, prisma: Db): JobHandler {
  return (data: TracedJobData, ctx) => withSpan(`process ${data.kind}`, {
    kind: SpanKind.CONSUMER,
    parent: extractTraceContext(data.trace),
    attributes: { ...messaging(data), 'messaging.operation.type': 'process', 'rolecall.job.attempt': ctx.attempt },
  }, async (span) => {
    if (data.kind !== 'step') return inner(data, ctx);
    const step = await prisma.step.findUnique({ where: { id: data.stepId }, select: { workflowId: true, roleId: true } });
    if (!step) return inner(data, ctx);
    span.setAttribute('rolecall.workflow.id', step.workflowId);
    return withLogContext({ workflowId: step.workflowId, stepId: data.stepId }, () =>
      withStepSpan({ workflowId: step.workflowId, stepId: data.stepId, revision: data.revision, run: data.run, roleId: step.roleId }, () => inner(data, ctx)));
  });
}

/** Each call to a chat platform in a CLIENT span ("<platform> <operation>"). */
export function tracedChatPorts(ports: ChatPorts): ChatPorts {
  return Object.fromEntries(Object.entries(ports).map(([platform, port]) => [platform, port && tracedChatPort(platform, port)]));
}

function tracedChatPort(platform: string, port: ChatPort): ChatPort {
  const call = <T>(operation: string, thread: { channelId: string } | undefined, fn: () => Promise<T>) =>
    withSpan(`${platform} ${operation}`, { kind: SpanKind.CLIENT, attributes: { 'rolecall.chat.platform': platform, 'rolecall.chat.operation': operation, ...(thread ? { 'rolecall.chat.channel': thread.channelId } : {}) } }, fn);
  // The port's own object underneath: members not traced here (and any added later) are the port's.
  const traced = Object.create(port) as ChatPort;
  traced.post = (thread, persona, view, opts) => call('post', thread, () => port.post(thread, persona, view, opts));
  if (port.findPosted) {
    const findPosted = port.findPosted.bind(port);
    traced.findPosted = (thread, key) => call('find_posted', thread, () => findPosted(thread, key));
  }
  traced.update = (thread, messageId, persona, view) => call('update', thread, () => port.update(thread, messageId, persona, view));
  traced.nameOf = (userId) => call('name_of', undefined, () => port.nameOf(userId));
  if (port.lookupName) {
    const lookupName = port.lookupName.bind(port);
    traced.lookupName = (teamId, userId) => call('lookup_name', undefined, () => lookupName(teamId, userId));
  }
  traced.notify = (thread, person, text) => call('notify', thread, () => port.notify(thread, person, text));
  if (port.react) {
    const react = port.react.bind(port);
    traced.react = (thread, messageId, emoji) => call('react', thread, () => react(thread, messageId, emoji));
  }
  if (port.upload) {
    const upload = port.upload.bind(port);
    traced.upload = (thread, persona, files, comment) => call('upload', thread, () => upload(thread, persona, files, comment));
  }
  return traced;
}

/** Names one HTTP request of a platform's client by what it does (a Web API method, `file download`, ...): a short
 *  fixed word, never the URL's path or query. */
export type PlatformOperationOf = (url: URL, method: string) => string;

/** The fetch a platform's client is given: each HTTP request in a CLIENT span "<platform> <operation>" (retries are
 *  requests of their own), from the call until the answer's status and headers arrive, with the method, host, and
 *  status code (an error status from 400 on). */
export function tracedFetch(platform: string, operationOf: PlatformOperationOf, inner: typeof fetch = fetch): typeof fetch {
  return (input: string | URL | Request, init?: RequestInit) => {
    const url = URL.parse(input instanceof Request ? input.url : String(input));
    if (!url) return inner(input, init); // not an absolute URL: the transport's own error, untraced
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    const operation = operationOf(url, method).slice(0, 60);
    return withSpan(`${platform} ${operation}`, {
      kind: SpanKind.CLIENT,
      attributes: {
        'rolecall.chat.platform': platform, 'rolecall.chat.operation': operation,
        'http.request.method': method, 'server.address': url.hostname, ...(url.port ? { 'server.port': Number(url.port) } : {}),
      },
    }, async (span) => {
      const res = await inner(input, init);
      span.setAttribute('http.response.status_code', res.status);
      if (res.status >= 400) {
        span.setAttribute('error.type', String(res.status));
        span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${res.status}` });
      }
      return res;
    });
  };
}

/** Each tool call in a span (GenAI semantic conventions: execute_tool <name>). */
export function tracedToolRunner(inner: ToolRunner, where: { workflowId: string; stepId: string }): ToolRunner {
  return {
    specs: (role) => inner.specs(role),
    call: (role, name, args) => withSpan(`execute_tool ${name}`, {
      kind: SpanKind.INTERNAL,
      attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': name, 'rolecall.role.id': role.role_id, 'rolecall.workflow.id': where.workflowId, 'rolecall.step.id': where.stepId },
    }, () => inner.call(role, name, args)),
  };
}
