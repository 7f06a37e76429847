// Providers behind the one interface, against fakes of the outside systems: provider rate limits shared by two workers
// through one real Redis (and the provider's x-ratelimit-* / Retry-After headers), Ollama's tool calling and structured
// output on its real /api/chat wire format, and Azure OpenAI's settings reaching the client.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../app/config';
import { runAgent, type ToolRunner } from '../agents/agent';
import { openAiProvider } from '../agents/llm/openai';
import { createProviders } from '../agents/llm/providers';
import { createProviderLimiter, durationMs, limitedProvider, ProviderThrottledError } from '../agents/llm/rate-limit';
import { createLlmRouter } from '../agents/llm/router';
import { loadRoles } from '../agents/roles';
import { RetryLaterError } from '../agents/errors';
import { DelayedError } from 'bullmq';
import { runWithInfraRetry } from '../orchestrator/queue';
import { fill, startFakeOpenAI, type FakeOpenAI } from './support/fake-openai';
import { startFakeOllama, type FakeOllama } from './support/fake-ollama';
import { deleteQueueKeys, REDIS_URL } from './support/harness';

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => { for (const c of closers.splice(0).reverse()) await c(); });
const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
afterAll(async () => { await redis.quit(); });

async function openai(script?: Parameters<typeof startFakeOpenAI>[0]): Promise<FakeOpenAI> {
  const fake = await startFakeOpenAI(script);
  closers.push(fake.close);
  return fake;
}

function prefix(): string {
  const p = `rl_${randomBytes(5).toString('hex')}`;
  closers.push(() => deleteQueueKeys(p));
  return p;
}

const req = { model: 'gpt-4o-mini', temperature: 0, system: 'You are the QA Tester.', user: 'Request: hello' };

describe('provider rate limits shared through Redis', () => {
  it('two workers share one requests-per-minute limit: the third request is not sent, and is delayed instead', async () => {
    const fake = await openai();
    const shared = { redis, prefix: prefix(), limits: { openai: { rpm: 2 } }, maxWaitMs: 0, windowS: 3600 };
    // two workers: each its own limiter and provider, one Redis
    const a = limitedProvider(openAiProvider({ apiKey: 'k', baseURL: fake.baseURL, timeoutMs: 30_000 }), createProviderLimiter(shared));
    const b = limitedProvider(openAiProvider({ apiKey: 'k', baseURL: fake.baseURL, timeoutMs: 30_000 }), createProviderLimiter(shared));
    await a.complete(req);
    await b.complete(req);
    const refused = await a.complete(req).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ProviderThrottledError);
    expect(refused).toBeInstanceOf(RetryLaterError); // the queue delays the job without using an attempt
    expect((refused as ProviderThrottledError).delayMs).toBeGreaterThan(0);
    await expect(b.complete(req)).rejects.toBeInstanceOf(ProviderThrottledError);
    expect(fake.requests).toHaveLength(2);
  });

  it('tokens per minute count what the provider reported', async () => {
    const fake = await openai(); // every answer: 150 tokens
    const limiter = createProviderLimiter({ redis, prefix: prefix(), limits: { openai: { tpm: 1000 } }, maxWaitMs: 0, windowS: 3600 });
    const p = limitedProvider(openAiProvider({ apiKey: 'k', baseURL: fake.baseURL, timeoutMs: 30_000 }), limiter);
    // each request is estimated at ~520 tokens before it is sent, then settled at the 150 it used
    // (without settling, the second request would already be refused: 2 x ~520 > 1000)
    for (let i = 0; i < 4; i++) await p.complete(req);
    expect(fake.requests).toHaveLength(4);
    await expect(p.complete(req)).rejects.toBeInstanceOf(ProviderThrottledError); // 600 used + ~520 estimated > 1000
    expect(fake.requests).toHaveLength(4);
  });

  it('x-ratelimit-remaining 0 from the provider blocks every worker until its reset', async () => {
    const fake = await openai(() => ({ content: 'ok', headers: { 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '6m0s' } }));
    const shared = { redis, prefix: prefix(), limits: {}, maxWaitMs: 0, windowS: 3600 };
    const one = createProviderLimiter(shared);
    const a = limitedProvider(openAiProvider({ apiKey: 'k', baseURL: fake.baseURL, timeoutMs: 30_000, onHeaders: (h) => one.observe('openai', h) }), one);
    const b = limitedProvider(openAiProvider({ apiKey: 'k', baseURL: fake.baseURL, timeoutMs: 30_000 }), createProviderLimiter(shared));
    await a.complete(req);
    const refused = await b.complete(req).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ProviderThrottledError);
    expect((refused as ProviderThrottledError).delayMs).toBeGreaterThan(5 * 60_000);
    expect(fake.requests).toHaveLength(1);
  });

  it('a 429 with Retry-After blocks the provider for every worker', async () => {
    const fake = await openai(() => ({ status: 429, error: 'slow down', headers: { 'retry-after': '120' } }));
    const shared = { redis, prefix: prefix(), limits: {}, maxWaitMs: 0, windowS: 3600 };
    const one = createProviderLimiter(shared);
    const a = limitedProvider(openAiProvider({ apiKey: 'k', baseURL: fake.baseURL, timeoutMs: 30_000, onHeaders: (h) => one.observe('openai', h) }), one);
    await expect(a.complete(req)).rejects.toMatchObject({ kind: 'rate_limited' });
    const other = limitedProvider(openAiProvider({ apiKey: 'k', baseURL: fake.baseURL, timeoutMs: 30_000 }), createProviderLimiter(shared));
    const refused = await other.complete(req).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ProviderThrottledError);
    expect((refused as ProviderThrottledError).delayMs).toBeGreaterThan(60_000);
    expect(fake.requests).toHaveLength(1);
  });

  it('a throttled job is delayed by the queue without using an attempt', async () => {
    const moved: number[] = [];
    const job = { data: { kind: 'step', stepId: 's', revision: 1, run: 0 }, attemptsMade: 0, attemptsStarted: 1, timestamp: Date.now(), opts: { attempts: 3 }, moveToDelayed: async (at: number) => void moved.push(at) };
    const before = Date.now();
    const run = runWithInfraRetry(job as never, 'token', async () => { throw new ProviderThrottledError('openai', 5_000); }, { maxHours: 1, maxDelayMs: 1_000 }, () => undefined);
    await expect(run).rejects.toBeInstanceOf(DelayedError); // BullMQ: moved to delayed, attemptsMade unchanged
    expect(moved).toHaveLength(1);
    expect(moved[0]!).toBeGreaterThanOrEqual(before + 5_000);
  });

  it('a role naming a provider that is not configured is refused, naming what to set', () => {
    const base = loadRoles('roles').get('developer')!;
    const role = { ...base, models: undefined, llm_config: { ...base.llm_config, provider: 'groq' } };
    expect(() => createLlmRouter({ openai: { apiKey: 'k' }, timeoutMs: 1000 }, [role])).toThrow(/uses provider groq, but an LLM_ENDPOINTS entry named groq is not set/);
  });

  it('reads OpenAI\'s reset durations', () => {
    expect(durationMs('1s')).toBe(1000);
    expect(durationMs('6m0s')).toBe(360_000);
    expect(durationMs('20ms')).toBe(20);
    expect(durationMs('2m59.56s')).toBe(179_560);
    expect(durationMs('7.66')).toBe(7660);
    expect(durationMs('soon')).toBeUndefined();
  });
});

describe('Ollama: tool calls and structured output on the real wire format', () => {
  it('offers the role its tools, runs the call the model asks for, and returns the structured answer', async () => {
    const ollama: FakeOllama = await startFakeOllama();
    closers.push(ollama.close);
    const roles = loadRoles('roles');
    const base = roles.get('qa_tester')!;
    const role = { ...base, models: undefined, llm_config: { ...base.llm_config, provider: 'ollama', model: 'llama3.1:8b' }, constraints: { ...base.constraints, model_judge: false } };
    ollama.script = (body, n) => (n === 1
      ? { toolCalls: [{ name: 'lookup_ticket', arguments: { id: 'BUG-7' } }] }
      : { content: JSON.stringify(fill(body.format as Record<string, any>, 'Steps to reproduce: empty cart, press checkout; ticket BUG-7 says it is known.')) });
    const toolCalls: { name: string; args: Record<string, unknown> }[] = [];
    const tools: ToolRunner = {
      specs: async () => [{ name: 'lookup_ticket', description: 'Reads a ticket', parameters: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] } }],
      call: async (_r, name, args) => { toolCalls.push({ name, args }); return 'BUG-7: known crash on empty cart'; },
    };
    const router = createLlmRouter({ ollama: { host: ollama.host }, timeoutMs: 30_000 }, [role]);
    const result = await runAgent(role, router, { request: 'checkout crashes', previous: [], threadNotes: [], mayAsk: false }, tools);
    expect(result.kind).toBe('ok');
    expect(toolCalls).toEqual([{ name: 'lookup_ticket', args: { id: 'BUG-7' } }]);
    const [first, second] = ollama.requests;
    expect(first!.tools?.map((t) => t.function.name)).toEqual(['lookup_ticket']);
    expect(first!.format).toMatchObject({ type: 'object' }); // structured output: the JSON schema as `format`
    expect(first!.stream).toBe(false);
    // the tool's answer goes back as a tool message named after the tool, after the assistant's call
    expect(second!.messages.slice(-2)).toEqual([
      expect.objectContaining({ role: 'assistant', tool_calls: [{ function: { name: 'lookup_ticket', arguments: { id: 'BUG-7' } } }] }),
      expect.objectContaining({ role: 'tool', content: 'BUG-7: known crash on empty cart', tool_name: 'lookup_ticket' }),
    ]);
    expect(result.calls.map((c) => [c.provider, c.promptTokens, c.completionTokens])).toEqual([['ollama', 40, 20], ['ollama', 40, 20]]);
  });
});

describe('Azure OpenAI and OpenAI-compatible endpoints', () => {
  it('config settings reach the client: endpoint, deployment path, api-version and api-key header', async () => {
    const fake = await openai();
    const config = loadConfig({ NODE_ENV: 'test', AZURE_OPENAI_ENDPOINT: fake.origin, AZURE_OPENAI_API_KEY: 'az-secret', AZURE_OPENAI_API_VERSION: '2024-10-21' });
    const azure = createProviders(config.llm).get('azure')!;
    const r = await azure.complete({ ...req, model: 'qa-deployment' });
    expect(r.text).toBeTruthy();
    expect(fake.seen[0]).toMatchObject({ path: '/openai/deployments/qa-deployment/chat/completions?api-version=2024-10-21', apiKey: 'az-secret' });
    const pinned = createProviders({ ...config.llm, azure: { ...config.llm.azure!, deployment: 'one-deployment' } }).get('azure')!;
    await pinned.complete({ ...req, model: 'ignored' });
    expect(fake.seen[1]!.path).toBe('/openai/deployments/one-deployment/chat/completions?api-version=2024-10-21');
  });

  it('an OpenAI-compatible endpoint is a provider under its own name, with its own key', async () => {
    const fake = await openai();
    const config = loadConfig({ NODE_ENV: 'test', LLM_ENDPOINTS: JSON.stringify([{ name: 'groq', baseURL: fake.baseURL, apiKey: 'gsk-test' }]) });
    const groq = createProviders(config.llm).get('groq')!;
    expect(groq.name).toBe('groq');
    await groq.complete({ ...req, model: 'llama-3.1-8b-instant' });
    expect(fake.seen[0]).toMatchObject({ path: '/v1/chat/completions', authorization: 'Bearer gsk-test' });
    expect(() => loadConfig({ LLM_ENDPOINTS: JSON.stringify([{ name: 'openai', baseURL: fake.baseURL }]) })).toThrow(/name "openai" is taken/);
    expect(() => loadConfig({ LLM_ENDPOINTS: '[{' })).toThrow(/LLM_ENDPOINTS: must be JSON/);
  });
});
