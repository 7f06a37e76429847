// PII redaction round trip (issue 18): what a model receives has no email, phone, IBAN or card number; what comes back
// has them restored; local-models-only sends the call to the local provider or refuses it; outside withPrivacy nothing
// changes.
import { describe, expect, it } from 'vitest';
import { PiiMap, validIban } from '../../agents/llm/pii';
import { LocalModelRequired, privateProvider, withPrivacy } from '../../agents/llm/private';
import type { ChatRequest, LlmProvider } from '../../agents/llm/provider';

const TEXT = 'Mail jane.doe@example.com or call 415-555-0134, pay IBAN DE89 3704 0044 0532 0130 00, card 4111 1111 1111 1111. Ref 12345.';
const SECRETS = ['jane.doe@example.com', '415-555-0134', 'DE89 3704 0044 0532 0130 00', '4111 1111 1111 1111'];

/** A model that records what it was sent and echoes the user message back (as text and as a tool call). */
function recording(name: string) {
  const seen: ChatRequest[] = [];
  const provider: LlmProvider = {
    name,
    capabilities: { tools: true, images: false, structuredOutput: true, reasoning: true },
    async complete(req) {
      seen.push(req);
      return { text: `Summary: ${req.user}`, toolCalls: [{ id: '1', name: 'note', arguments: JSON.stringify({ to: req.user }) }], model: req.model, promptTokens: 1, completionTokens: 1 };
    },
  };
  return { provider, seen };
}

describe('PII redaction', () => {
  it('replaces emails, phones, IBANs and cards by placeholders and restores them', () => {
    const map = new PiiMap();
    const red = map.redact(TEXT);
    for (const s of SECRETS) expect(red).not.toContain(s);
    expect(red).toContain('[EMAIL_1]');
    expect(red).toContain('[IBAN_1]');
    expect(red).toContain('[CARD_1]');
    expect(red).toContain('[PHONE_1]');
    expect(red).toContain('Ref 12345'); // not every number is personal data
    expect(map.restore(red)).toBe(TEXT);
    expect(validIban('DE89 3704 0044 0532 0130 00')).toBe(true);
    expect(validIban('DE00 3704 0044 0532 0130 00')).toBe(false);
  });

  it('wraps a provider: the model never sees the values; the answer has them back', async () => {
    const { provider, seen } = recording('openai');
    const wrapped = privateProvider(provider);
    const req: ChatRequest = { model: 'm', temperature: 0, system: 'Reply to jane.doe@example.com', user: TEXT };
    const res = await withPrivacy({ redactPii: true, localModelsOnly: false }, () => wrapped.complete(req));
    const sent = JSON.stringify(seen[0]);
    for (const s of SECRETS) expect(sent).not.toContain(s);
    expect(res.text).toBe(`Summary: ${TEXT}`);
    expect(JSON.parse(res.toolCalls![0]!.arguments)).toEqual({ to: TEXT });
    // outside a privacy scope: untouched
    await wrapped.complete(req);
    expect(seen[1]!.user).toBe(TEXT);
  });

  it('sends local-models-only calls to the local provider, or refuses them', async () => {
    const remote = recording('openai');
    const local = recording('ollama');
    const wrapped = privateProvider(remote.provider, { local: { provider: local.provider, model: 'llama3' } });
    await withPrivacy({ redactPii: false, localModelsOnly: true }, () => wrapped.complete({ model: 'gpt', temperature: 0, system: '', user: 'hi' }));
    expect(remote.seen).toHaveLength(0);
    expect(local.seen[0]!.model).toBe('llama3');
    await expect(withPrivacy({ redactPii: false, localModelsOnly: true }, () => privateProvider(remote.provider).complete({ model: 'gpt', temperature: 0, system: '', user: 'hi' }))).rejects.toBeInstanceOf(LocalModelRequired);
    expect(remote.seen).toHaveLength(0);
  });
});
