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
      const asked = request.replace(/<@[A-Za-z0-9_]+>/g, '').trim().slice(0, 120) || 'the request';
      // What it received besides the request: the files' lines (type, size, pages, dimensions) and image parts.
      const files = [...req.user.matchAll(/^File \d+: (.+)$/gm)].map((m) => m[1]!);
      const received = files.length || req.images?.length ? ` (received ${[files.length ? `files: ${files.join('; ')}` : '', req.images?.length ? `${req.images.length} image part(s)` : ''].filter(Boolean).join('; ')})` : '';
      const subject = `${asked}${received}`;
      const digest = createHash('sha256').update(req.system + req.user).digest('hex').slice(0, 8);
      const text = req.responseSchema
        ? JSON.stringify(instanceOf(req.responseSchema.schema, demoText(role, subject, digest)))
        : `_${DEMO_NOTICE}_\n*${role}* on "${subject}" (demo ${digest})`;
      return { text, model: 'demo', promptTokens: countWords(req.system + req.user), completionTokens: countWords(text) };
    },
  };
}

/** Supplies the strings of a schema instance: the string's schema, its property name ('' at the top or in a bare array)
 *  and the 0-based index of each array item it is nested in, outermost first. */
export type TextFor = (schema: Record<string, any>, name: string, at: number[]) => string;

export interface InstanceOptions {
  /** How many items an array gets (default: minItems, and at least 1, up to 2 unless maxItems allows fewer). */
  items?: (schema: Record<string, any>) => number;
}

const defaultItems = (schema: Record<string, any>) => Math.max(schema.minItems ?? 1, Math.min(2, schema.maxItems ?? 2));

/** A deterministic value that satisfies the JSON schema (the subset roles use: object, array, string, enum, number,
 *  boolean), with strings from `textFor`. Objects get their required properties (all of them if none are listed). */
export function instanceOf(schema: Record<string, any>, textFor: TextFor, opts: InstanceOptions = {}): unknown {
  const items = opts.items ?? defaultItems;
  const fill = (schema: Record<string, any>, name: string, at: number[]): unknown => {
    if (Array.isArray(schema.enum)) return schema.enum[0];
    if (schema.const !== undefined) return schema.const;
    const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
    switch (type) {
      case 'object': {
        const props = (schema.properties ?? {}) as Record<string, Record<string, any>>;
        const wanted = Array.isArray(schema.required) ? Object.entries(props).filter(([k]) => schema.required.includes(k)) : Object.entries(props);
        return Object.fromEntries(wanted.map(([k, v]) => [k, fill(v, k, at)]));
      }
      case 'array':
        return Array.from({ length: items(schema) }, (_, i) => fill(schema.items ?? { type: 'string' }, name, [...at, i]));
      case 'integer':
      case 'number':
        return Math.max(schema.minimum ?? 1, 1);
      case 'boolean':
        return true;
      default:
        return textFor(schema, name, at);
    }
  };
  return fill(schema, '', []);
}

/** The demo model's strings: who, what and which part, marked as demo output with a digest of the prompt. */
function demoText(role: string, subject: string, digest: string): TextFor {
  return (schema, name, at) => {
    const label = name.replace(/_/g, ' ') || 'text';
    let s = `[demo ${[digest, ...at.map((i) => i + 1)].join('.')}] ${role}: ${label} for "${subject}"`;
    if (schema.minLength && s.length < schema.minLength) s = s.padEnd(schema.minLength, '.');
    if (schema.maxLength && s.length > schema.maxLength) s = s.slice(0, schema.maxLength);
    return s;
  };
}

const countWords = (s: string) => s.split(/\s+/).filter(Boolean).length;
