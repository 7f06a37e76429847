// A local Ollama server speaking its real wire format (POST /api/chat, non-streaming: { model, message: { role,
// content, tool_calls: [{ function: { name, arguments: {…} } }] }, done, prompt_eval_count, eval_count }), with
// scriptable answers, recording every request. The one fake of Ollama.
import { recording, startLocalServer } from './local-server';

export interface OllamaChatBody {
  model: string;
  stream?: boolean;
  format?: unknown;
  options?: { temperature?: number };
  tools?: { type: 'function'; function: { name: string; description: string; parameters: Record<string, unknown> } }[];
  messages: { role: string; content: string; images?: string[]; tool_calls?: { function: { name: string; arguments: Record<string, unknown> } }[]; tool_name?: string }[];
}

export type OllamaReply = { status?: number; error?: string; content?: string; toolCalls?: { name: string; arguments: Record<string, unknown> }[]; promptTokens?: number; completionTokens?: number };
export type OllamaScript = (req: OllamaChatBody, n: number) => OllamaReply | Promise<OllamaReply>;

export interface FakeOllama {
  host: string;
  requests: OllamaChatBody[];
  script: OllamaScript;
  waitForRequest(n: number): Promise<OllamaChatBody>;
  close(): Promise<void>;
}

export async function startFakeOllama(script: OllamaScript = () => ({ content: 'ok' })): Promise<FakeOllama> {
  const requests = recording<OllamaChatBody>();
  const server = await startLocalServer(async (req) => {
    if (req.url.pathname !== '/api/chat' || req.method !== 'POST') return { status: 404, json: { error: 'not found' } };
    const body = requests.add(JSON.parse(req.body) as OllamaChatBody);
    const reply = await fake.script(body, requests.items.length);
    if (reply.status && reply.status >= 400) return { status: reply.status, json: { error: reply.error ?? `status ${reply.status}` } };
    const message = {
      role: 'assistant',
      content: reply.content ?? '',
      ...(reply.toolCalls ? { tool_calls: reply.toolCalls.map((c) => ({ function: { name: c.name, arguments: c.arguments } })) } : {}),
    };
    return {
      json: {
        model: body.model, created_at: new Date().toISOString(), message, done: true, done_reason: 'stop',
        total_duration: 1_000_000, load_duration: 0, prompt_eval_count: reply.promptTokens ?? 40, prompt_eval_duration: 1, eval_count: reply.completionTokens ?? 20, eval_duration: 1,
      },
    };
  });
  const fake: FakeOllama = { host: server.url, requests: requests.items, script, waitForRequest: requests.nth, close: server.close };
  return fake;
}
