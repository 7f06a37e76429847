// Model calls as spans (OpenTelemetry GenAI semantic conventions): a decorator around the router that wraps every
// provider it hands out, so each complete() — a role's step, a file summary, intent classification — is one CLIENT
// span "chat <model>" with gen_ai.provider.name (and the older gen_ai.system), gen_ai.request.model,
// gen_ai.response.model, gen_ai.usage.input_tokens / output_tokens and rolecall.cost_usd (pricing.ts). Put in place by
// app/runtime.ts only when tracing is on. Invariant: prompts and answers never become attributes; each provider is
// wrapped once (the same provider object always gives the same wrapper).
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { withSpan } from '../tracing';
import { withTokens } from './measure';
import { priceCall } from './pricing';
import type { LlmProvider } from './provider';
import { decorateProviders, type LlmRouter } from './router';

export function tracedLlmRouter(inner: LlmRouter): LlmRouter {
  return decorateProviders(inner, tracedProvider);
}

export function tracedProvider(inner: LlmProvider): LlmProvider {
  const traced = Object.create(inner) as LlmProvider;
  traced.complete = (req) => withSpan(`chat ${req.model}`, {
    kind: SpanKind.CLIENT,
    attributes: {
      'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': inner.name, 'gen_ai.system': inner.name,
      'gen_ai.request.model': req.model, 'gen_ai.request.temperature': req.temperature,
      ...(req.tools?.length ? { 'rolecall.llm.tools_offered': req.tools.length } : {}),
    },
  }, async (span) => {
    const started = performance.now();
    const r = await inner.complete(req);
    if (span.isRecording()) {
      const counted = withTokens(req, r);
      const price = priceCall(inner.name, counted.model, counted.promptTokens, counted.completionTokens, performance.now() - started);
      span.setAttributes({
        'gen_ai.response.model': r.model,
        'gen_ai.usage.input_tokens': counted.promptTokens,
        'gen_ai.usage.output_tokens': counted.completionTokens,
        'rolecall.cost_usd': price.costUsd,
        'rolecall.price_known': price.known,
        ...(r.toolCalls?.length ? { 'rolecall.llm.tool_calls': r.toolCalls.length } : {}),
      });
      if (!r.text && !r.toolCalls?.length) span.setStatus({ code: SpanStatusCode.ERROR, message: 'empty answer' });
    }
    return r;
  });
  return traced;
}
