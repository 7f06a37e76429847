// Ollama (a local model server) behind LlmProvider: chat with structured output and function tools.
// Invariant: every failure surfaces as an LlmError whose `retryable` says whether another attempt may help.
import { Ollama, type Message } from 'ollama';
import { isRetryableStatus, LlmError, type ChatRequest, type ChatResult, type ChatTurn, type LlmProvider, parseToolArguments } from './provider';
import { errorMessage } from '../errors';

export interface OllamaOptions {
  host: string;
  timeoutMs: number;
}

export function ollamaProvider(opts: OllamaOptions): LlmProvider {
  const fetchWithTimeout: typeof fetch = (input, init) => fetch(input, { ...init, signal: AbortSignal.timeout(opts.timeoutMs) });
  const client = new Ollama({ host: opts.host, fetch: fetchWithTimeout });
  return {
    name: 'ollama',
    capabilities: { tools: true, images: true, structuredOutput: true, reasoning: true },
    async complete(req: ChatRequest): Promise<ChatResult> {
      try {
        const res = await client.chat({
          model: req.model,
          options: { temperature: req.temperature },
          ...(req.responseSchema ? { format: req.responseSchema.schema } : {}),
          ...(req.tools?.length ? { tools: req.tools.map((t) => ({ type: 'function', function: t })) } : {}),
          messages: [
            { role: 'system', content: req.system },
            { role: 'user', content: req.user, ...(req.images?.length ? { images: req.images.map((i) => i.base64) } : {}) },
            ...toMessages(req.turns ?? []),
          ],
        });
        // Ollama's tool calls carry no id: number them, so the tool answers can be matched to them.
        const toolCalls = (res.message?.tool_calls ?? []).map((c, i) => ({ id: `call_${i}_${c.function.name}`, name: c.function.name, arguments: JSON.stringify(c.function.arguments ?? {}) }));
        const text = res.message?.content ?? '';
        if (!text && !toolCalls.length) throw new LlmError(`model ${req.model} returned no content`, true, undefined, { kind: 'empty_answer' });
        return { text, ...(toolCalls.length ? { toolCalls } : {}), model: res.model || req.model, promptTokens: res.prompt_eval_count ?? 0, completionTokens: res.eval_count ?? 0 };
      } catch (e) {
        if (e instanceof LlmError) throw e;
        const status = (e as { status_code?: number }).status_code;
        const timeout = e instanceof DOMException && e.name === 'TimeoutError';
        throw new LlmError(timeout ? 'model request timed out' : `ollama call failed: ${errorMessage(e)}`, timeout || isRetryableStatus(status), status, timeout ? { kind: 'timed_out' } : {});
      }
    },
  };
}

function toMessages(turns: ChatTurn[]): Message[] {
  const names = new Map<string, string>();
  return turns.map((turn): Message => {
    if (turn.role === 'assistant') {
      for (const c of turn.toolCalls) names.set(c.id, c.name);
      return { role: 'assistant', content: '', tool_calls: turn.toolCalls.map((c) => ({ function: { name: c.name, arguments: parseToolArguments(c.arguments) } })) };
    }
    return { role: 'tool', content: turn.content, tool_name: names.get(turn.toolCallId) };
  });
}
