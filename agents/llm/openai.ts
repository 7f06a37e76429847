// OpenAI and every OpenAI-compatible endpoint (vLLM, LM Studio, Together, Groq, ...), and Azure OpenAI (deployment,
// api-version), behind LlmProvider. Invariant: every failure surfaces as an LlmError; the rate-limit headers of every
// answer (success or failure) are handed to `onHeaders` (the shared limiter, agents/llm/rate-limit.ts).
import OpenAI, { AzureOpenAI } from 'openai';
import { isRetryableStatus, LlmError, retryAfterMs, type ChatRequest, type ChatResult, type ChatTurn, type LlmProvider } from './provider';
import { errorMessage } from '../errors';

export interface OpenAiOptions {
  apiKey: string;
  baseURL?: string;
  timeoutMs: number;
  /** The provider's name in LlmCall rows, limits and the console (default "openai"). */
  name?: string;
  /** Azure OpenAI: the resource endpoint (https://<resource>.openai.azure.com), api-version and, optionally, one
   *  deployment for every call (otherwise the role's model names the deployment). */
  azure?: { endpoint: string; apiVersion: string; deployment?: string };
  /** Told the headers of every answer (x-ratelimit-*, Retry-After). Its failure changes nothing. */
  onHeaders?(headers: Headers): Promise<void> | void;
}

export function openAiProvider(opts: OpenAiOptions): LlmProvider {
  // Retries are the queue's job (backoff across attempts, visible in the thread), so the SDK does none.
  const client = opts.azure
    ? new AzureOpenAI({ apiKey: opts.apiKey, endpoint: opts.azure.endpoint, apiVersion: opts.azure.apiVersion, deployment: opts.azure.deployment, timeout: opts.timeoutMs, maxRetries: 0 })
    : new OpenAI({ apiKey: opts.apiKey, baseURL: opts.baseURL, timeout: opts.timeoutMs, maxRetries: 0 });
  const seen = async (headers: Headers | undefined) => {
    try {
      if (headers) await opts.onHeaders?.(headers);
    } catch { /* the limiter's trouble must not fail a call that was answered */ }
  };
  return {
    name: opts.name ?? 'openai',
    capabilities: { tools: true, images: true, structuredOutput: true, reasoning: true },
    async complete(req: ChatRequest): Promise<ChatResult> {
      try {
        const { data: res, response } = await client.chat.completions.create({
          model: req.model,
          temperature: req.temperature,
          ...(req.responseSchema ? { response_format: { type: 'json_schema' as const, json_schema: { name: req.responseSchema.name, schema: req.responseSchema.schema, strict: false } } } : {}),
          ...(req.tools?.length ? { tools: req.tools.map((t) => ({ type: 'function' as const, function: t })) } : {}),
          messages: [
            { role: 'system', content: req.system },
            { role: 'user', content: req.images?.length ? [{ type: 'text' as const, text: req.user }, ...req.images.map((i) => ({ type: 'image_url' as const, image_url: { url: `data:${i.mime};base64,${i.base64}` } }))] : req.user },
            ...(req.turns ?? []).map(toMessage),
          ],
        }).withResponse();
        await seen(response.headers);
        const message = res.choices[0]?.message;
        const toolCalls = (message?.tool_calls ?? [])
          .filter((c) => c.type === 'function')
          .map((c) => ({ id: c.id, name: c.function.name, arguments: c.function.arguments }));
        const text = message?.content ?? '';
        if (!text && !toolCalls.length) throw new LlmError(`model ${req.model} returned no content`, true, undefined, { kind: 'empty_answer' });
        return {
          text,
          ...(toolCalls.length ? { toolCalls } : {}),
          model: res.model || req.model,
          promptTokens: res.usage?.prompt_tokens ?? 0,
          completionTokens: res.usage?.completion_tokens ?? 0,
        };
      } catch (e) {
        if (e instanceof OpenAI.APIError) await seen(e.headers);
        throw toLlmError(e);
      }
    },
  };
}

function toMessage(turn: ChatTurn): OpenAI.Chat.ChatCompletionMessageParam {
  if (turn.role === 'tool') return { role: 'tool', tool_call_id: turn.toolCallId, content: turn.content };
  return { role: 'assistant', content: null, tool_calls: turn.toolCalls.map((c) => ({ id: c.id, type: 'function' as const, function: { name: c.name, arguments: c.arguments } })) };
}

function toLlmError(e: unknown): LlmError {
  if (e instanceof LlmError) return e;
  if (e instanceof OpenAI.APIConnectionTimeoutError) return new LlmError('model request timed out', true, undefined, { kind: 'timed_out' });
  if (e instanceof OpenAI.APIConnectionError) return new LlmError(`cannot reach the model server: ${e.message}`, true);
  if (e instanceof OpenAI.APIError) {
    return new LlmError(`model server answered ${e.status ?? '?'}: ${e.message}`, isRetryableStatus(e.status), e.status, { retryAfterMs: retryAfterMs(e.headers) });
  }
  return new LlmError(`model call failed: ${errorMessage(e)}`, true);
}
