import OpenAI from 'openai';
import { isRetryableStatus, LlmError, retryAfterMs, type ChatRequest, type ChatResult, type ChatTurn, type LlmProvider } from './provider';
import { errorMessage } from '../errors';

export function openAiProvider(opts: { apiKey: string; baseURL?: string; timeoutMs: number }): LlmProvider {
  // Retries are the queue's job (backoff across attempts, visible in the thread), so the SDK does none.
  const client = new OpenAI({ apiKey: opts.apiKey, baseURL: opts.baseURL, timeout: opts.timeoutMs, maxRetries: 0 });
  return {
    name: 'openai',
    capabilities: { tools: true, images: true, structuredOutput: true, reasoning: true },
    async complete(req: ChatRequest): Promise<ChatResult> {
      try {
        const res = await client.chat.completions.create({
          model: req.model,
          temperature: req.temperature,
          ...(req.responseSchema ? { response_format: { type: 'json_schema' as const, json_schema: { name: req.responseSchema.name, schema: req.responseSchema.schema, strict: false } } } : {}),
          ...(req.tools?.length ? { tools: req.tools.map((t) => ({ type: 'function' as const, function: t })) } : {}),
          messages: [
            { role: 'system', content: req.system },
            { role: 'user', content: req.images?.length ? [{ type: 'text' as const, text: req.user }, ...req.images.map((i) => ({ type: 'image_url' as const, image_url: { url: `data:${i.mime};base64,${i.base64}` } }))] : req.user },
            ...(req.turns ?? []).map(toMessage),
          ],
        });
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
