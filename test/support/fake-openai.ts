// A local OpenAI-compatible server (POST /v1/chat/completions) with scriptable answers, recording every request.
import { instanceOf } from '../../agents/llm/demo';
import { recording, startLocalServer } from './local-server';

export interface ChatRequestBody {
  model: string;
  temperature?: number;
  messages: { role: string; content: string; tool_call_id?: string; tool_calls?: { id: string; function: { name: string; arguments: string } }[] }[];
  tools?: { type: 'function'; function: { name: string; description: string; parameters: Record<string, unknown> } }[];
  response_format?: { type: string; json_schema?: { name: string; schema: Record<string, any> } };
}

export type Reply = { status?: number; delayMs?: number; content?: string; error?: string; headers?: Record<string, string>; toolCalls?: { id: string; name: string; arguments: string }[] };
export type Script = (req: ChatRequestBody, n: number) => Reply | Promise<Reply>;

export interface FakeOpenAI {
  baseURL: string;
  requests: ChatRequestBody[];
  /** When each request arrived (Date.now()), by index into `requests`. */
  receivedAt: number[];
  /** Where each request went (path with query) and how it authenticated (Bearer, or Azure's api-key header). */
  seen: { path: string; authorization?: string; apiKey?: string }[];
  /** The server's origin (http://127.0.0.1:port), e.g. as an Azure endpoint. */
  origin: string;
  script: Script;
  /** Resolves when the n-th request (1-based) has arrived. */
  waitForRequest(n: number): Promise<ChatRequestBody>;
  close(): Promise<void>;
}

export const roleOf = (req: ChatRequestBody) => /You are the ([A-Za-z ]+?)[.,]/.exec(req.messages[0]?.content ?? '')?.[1] ?? 'unknown';

export const requestOf = (req: ChatRequestBody) => /^Request: (.*)$/m.exec(req.messages[1]?.content ?? '')?.[1] ?? '';

/** The user message of a recorded request as text and image parts (content is a string, or parts with images). */
export function userParts(req: ChatRequestBody): { text: string; images: string[] } {
  const content: unknown = req.messages[1]?.content;
  if (typeof content === 'string') return { text: content, images: [] };
  const parts = Array.isArray(content) ? content : [];
  return {
    text: parts.filter((p) => p?.type === 'text').map((p) => String(p.text)).join('\n'),
    images: parts.filter((p) => p?.type === 'image_url').map((p) => String(p.image_url?.url)),
  };
}

/** Answers like a cooperative model: JSON that fits the requested schema, every string saying who answered what. */
export const defaultScript: Script = (req) => {
  const line = `${roleOf(req)} says: done for "${requestOf(req)}"`;
  const schema = req.response_format?.json_schema?.schema;
  return { content: schema ? JSON.stringify(fill(schema, line)) : line };
};

/** A value that fits a JSON schema (required properties; one item per array unless minItems asks for more), every
 *  string being `text`. The demo model's schema filler, with the fake's strings. */
export function fill(schema: Record<string, any>, text: string): unknown {
  return instanceOf(schema, () => text, { items: (s) => Math.max(1, s.minItems ?? 1) });
}

export async function startFakeOpenAI(script: Script = defaultScript): Promise<FakeOpenAI> {
  const requests = recording<ChatRequestBody>();
  const receivedAt: number[] = [];
  const seen: FakeOpenAI['seen'] = [];
  const server = await startLocalServer(async (req, res) => {
    // OpenAI's path, or Azure OpenAI's (/openai/deployments/<deployment>/chat/completions?api-version=…)
    const azure = /^\/openai\/deployments\/[^/]+\/chat\/completions$/.test(req.url.pathname);
    if ((req.url.pathname !== '/v1/chat/completions' && !azure) || req.method !== 'POST') return { status: 404, json: { error: { message: 'not found' } } };
    receivedAt.push(Date.now());
    seen.push({ path: req.path, authorization: req.headers.authorization, apiKey: typeof req.headers['api-key'] === 'string' ? req.headers['api-key'] : undefined });
    const body = requests.add(JSON.parse(req.body) as ChatRequestBody);
    const n = requests.items.length;
    const reply = await fake.script(body, n);
    if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
    if (res.destroyed) return;
    if (reply.status && reply.status >= 400) return { status: reply.status, headers: reply.headers, json: { error: { message: reply.error ?? `status ${reply.status}`, type: 'server_error' } } };
    const message = reply.toolCalls
      ? { role: 'assistant', content: null, tool_calls: reply.toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })) }
      : { role: 'assistant', content: reply.content ?? 'ok' };
    return {
      headers: reply.headers,
      json: {
        id: `chatcmpl-${n}`, object: 'chat.completion', created: Math.floor(Date.now() / 1000), model: body.model,
        choices: [{ index: 0, finish_reason: reply.toolCalls ? 'tool_calls' : 'stop', message }],
        usage: { prompt_tokens: 100, completion_tokens: 50, total_tokens: 150 },
      },
    };
  });
  const fake: FakeOpenAI = {
    baseURL: `${server.url}/v1`,
    requests: requests.items,
    receivedAt,
    seen,
    origin: server.url,
    script,
    waitForRequest: requests.nth,
    close: server.close,
  };
  return fake;
}
