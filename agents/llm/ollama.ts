import { Ollama } from 'ollama';
import { isRetryableStatus, LlmError, type ChatRequest, type ChatResult, type LlmProvider } from './provider';

export function ollamaProvider(opts: { host: string; timeoutMs: number }): LlmProvider {
  const fetchWithTimeout: typeof fetch = (input, init) => fetch(input, { ...init, signal: AbortSignal.timeout(opts.timeoutMs) });
  const client = new Ollama({ host: opts.host, fetch: fetchWithTimeout });
  return {
    name: 'ollama',
    async complete(req: ChatRequest): Promise<ChatResult> {
      try {
        const res = await client.chat({
          model: req.model,
          options: { temperature: req.temperature },
          ...(req.responseSchema ? { format: req.responseSchema.schema } : {}),
          messages: [
            { role: 'system', content: req.system },
            { role: 'user', content: req.user },
          ],
        });
        if (!res.message?.content) throw new LlmError(`model ${req.model} returned no content`, true);
        return { text: res.message.content, model: res.model || req.model, promptTokens: res.prompt_eval_count ?? 0, completionTokens: res.eval_count ?? 0 };
      } catch (e) {
        if (e instanceof LlmError) throw e;
        const status = (e as { status_code?: number }).status_code;
        const timeout = (e as Error)?.name === 'TimeoutError';
        throw new LlmError(timeout ? 'model request timed out' : `ollama call failed: ${(e as Error).message}`, timeout || isRetryableStatus(status), status);
      }
    },
  };
}
