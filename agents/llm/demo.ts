// Offline demo model: deterministic, no network, and it says so (in its text, and in the post's model line).
import { createHash } from 'node:crypto';
import type { ChatRequest, ChatResult, LlmProvider } from './provider';

export const DEMO_NOTICE = 'Offline demo model: deterministic placeholder text, not an AI answer. Configure OPENAI_API_KEY or OLLAMA_HOST for real output.';

export function demoProvider(): LlmProvider {
  return {
    name: 'demo',
    capabilities: { tools: false, images: false, structuredOutput: true, reasoning: false },
    async complete(req: ChatRequest): Promise<ChatResult> {
      const role = /You are the ([A-Za-z ]+?)[.,]/.exec(req.system)?.[1] ?? 'assistant';
      const request = /^Request: (.*)$/m.exec(req.user)?.[1] ?? req.user.split('\n')[0] ?? '';
      const subject = request.replace(/<@[A-Za-z0-9_]+>/g, '').trim().slice(0, 120) || 'the request';
      const digest = createHash('sha256').update(req.system + req.user).digest('hex').slice(0, 8);
      const text = req.responseSchema
        ? JSON.stringify(instanceOf(req.responseSchema.schema, { role, subject, digest }, ''))
        : `_${DEMO_NOTICE}_\n*${role}* on "${subject}" (demo ${digest})`;
      return { text, model: 'demo', promptTokens: countWords(req.system + req.user), completionTokens: countWords(text) };
    },
  };
}

interface Seed {
  role: string;
  subject: string;
  digest: string;
}

/** A deterministic value that satisfies the JSON schema (the subset roles use: object, array, string, enum, number, boolean). */
export function instanceOf(schema: Record<string, any>, seed: Seed, name: string): unknown {
  if (Array.isArray(schema.enum)) return schema.enum[0];
  if (schema.const !== undefined) return schema.const;
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'object': {
      const props = (schema.properties ?? {}) as Record<string, Record<string, any>>;
      const wanted = Array.isArray(schema.required) ? Object.entries(props).filter(([k]) => schema.required.includes(k)) : Object.entries(props);
      return Object.fromEntries(wanted.map(([k, v]) => [k, instanceOf(v, seed, k)]));
    }
    case 'array': {
      const n = Math.max(schema.minItems ?? 1, Math.min(2, schema.maxItems ?? 2));
      return Array.from({ length: n }, (_, i) => instanceOf(schema.items ?? { type: 'string' }, { ...seed, digest: `${seed.digest}.${i + 1}` }, name));
    }
    case 'integer':
    case 'number':
      return Math.max(schema.minimum ?? 1, 1);
    case 'boolean':
      return true;
    default:
      return demoString(schema, seed, name);
  }
}

function demoString(schema: Record<string, any>, seed: Seed, name: string): string {
  const label = name.replace(/_/g, ' ') || 'text';
  let s = `[demo ${seed.digest}] ${seed.role}: ${label} for "${seed.subject}"`;
  if (schema.minLength && s.length < schema.minLength) s = s.padEnd(schema.minLength, '.');
  if (schema.maxLength && s.length > schema.maxLength) s = s.slice(0, schema.maxLength);
  return s;
}

const countWords = (s: string) => s.split(/\s+/).filter(Boolean).length;
