// A local OpenAI-compatible server (POST /v1/chat/completions) with scriptable answers, recording every request.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ChatRequestBody {
  model: string;
  temperature?: number;
  messages: { role: string; content: string; tool_call_id?: string; tool_calls?: { id: string; function: { name: string; arguments: string } }[] }[];
  tools?: { type: 'function'; function: { name: string; description: string; parameters: Record<string, unknown> } }[];
  response_format?: { type: string; json_schema?: { name: string; schema: Record<string, any> } };
}

export type Reply = { status?: number; delayMs?: number; content?: string; error?: string; toolCalls?: { id: string; name: string; arguments: string }[] };
export type Script = (req: ChatRequestBody, n: number) => Reply | Promise<Reply>;

export interface FakeOpenAI {
  baseURL: string;
  requests: ChatRequestBody[];
  script: Script;
  /** Resolves when the n-th request (1-based) has arrived. */
  waitForRequest(n: number): Promise<ChatRequestBody>;
  close(): Promise<void>;
}

export const roleOf = (req: ChatRequestBody) => /You are the ([A-Za-z ]+?)[.,]/.exec(req.messages[0]?.content ?? '')?.[1] ?? 'unknown';

export const requestOf = (req: ChatRequestBody) => /^Request: (.*)$/m.exec(req.messages[1]?.content ?? '')?.[1] ?? '';

/** Answers like a cooperative model: JSON that fits the requested schema, every string saying who answered what. */
export const defaultScript: Script = (req) => {
  const line = `${roleOf(req)} says: done for "${requestOf(req)}"`;
  const schema = req.response_format?.json_schema?.schema;
  return { content: schema ? JSON.stringify(fill(schema, line)) : line };
};

/** A value that fits a JSON schema (required properties only; arrays, strings, numbers, booleans, enums). */
export function fill(schema: Record<string, any>, text: string): unknown {
  if (Array.isArray(schema.enum)) return schema.enum[0];
  if (schema.type === 'object') {
    const keys = Object.keys(schema.properties ?? {}).filter((k) => !Array.isArray(schema.required) || schema.required.includes(k));
    return Object.fromEntries(keys.map((k) => [k, fill(schema.properties[k], text)]));
  }
  if (schema.type === 'array') return Array.from({ length: Math.max(1, schema.minItems ?? 1) }, () => fill(schema.items ?? { type: 'string' }, text));
  if (schema.type === 'number' || schema.type === 'integer') return 1;
  if (schema.type === 'boolean') return true;
  return text;
}

export async function startFakeOpenAI(script: Script = defaultScript): Promise<FakeOpenAI> {
  const requests: ChatRequestBody[] = [];
  const waiters: { n: number; resolve: (r: ChatRequestBody) => void }[] = [];
  const fake: FakeOpenAI = {
    baseURL: '',
    requests,
    script,
    waitForRequest: (n) => (requests.length >= n ? Promise.resolve(requests[n - 1]!) : new Promise((resolve) => waiters.push({ n, resolve }))),
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', async () => {
      if (req.url !== '/v1/chat/completions' || req.method !== 'POST') return json(res, 404, { error: { message: 'not found' } });
      const body = JSON.parse(raw) as ChatRequestBody;
      requests.push(body);
      for (const w of waiters.filter((w) => w.n <= requests.length)) w.resolve(requests[w.n - 1]!);
      const reply = await fake.script(body, requests.length);
      if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
      if (res.destroyed) return;
      if (reply.status && reply.status >= 400) return json(res, reply.status, { error: { message: reply.error ?? `status ${reply.status}`, type: 'server_error' } });
      const content = reply.content ?? 'ok';
      const message = reply.toolCalls
        ? { role: 'assistant', content: null, tool_calls: reply.toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })) }
        : { role: 'assistant', content };
      json(res, 200, {
        id: `chatcmpl-${requests.length}`, object: 'chat.completion', created: Math.floor(Date.now() / 1000), model: body.model,
        choices: [{ index: 0, finish_reason: reply.toolCalls ? 'tool_calls' : 'stop', message }],
        usage: { prompt_tokens: 100, completion_tokens: 50, total_tokens: 150 },
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  fake.baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return fake;
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
