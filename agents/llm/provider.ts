import { RolecallError } from '../errors';
// The one interface the agents use to talk to a language model.
export interface ChatRequest {
  model: string;
  temperature: number;
  system: string;
  user: string;
  /** Ask for JSON that matches this schema (structured output). */
  responseSchema?: { name: string; schema: Record<string, unknown> };
  /** Tools the model may call; their calls come back in `toolCalls` instead of text. */
  tools?: ToolSpec[];
  /** Earlier turns of a tool-using exchange, after the user message. */
  turns?: ChatTurn[];
  /** Images that go with the user message (only to providers with capabilities.images): resized and re-encoded. */
  images?: ChatImage[];
}

/** An image part of the user message. */
export interface ChatImage {
  name: string;
  /** image/png, image/jpeg, ... */
  mime: string;
  /** The bytes, base64. */
  base64: string;
}

export interface ToolSpec {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

export interface ToolCall {
  id: string;
  name: string;
  /** JSON text, as the model wrote it. */
  arguments: string;
}

export type ChatTurn = { role: 'assistant'; toolCalls: ToolCall[] } | { role: 'tool'; toolCallId: string; content: string };

export interface ChatResult {
  text: string;
  /** Set when the model asks to call tools rather than answer. */
  toolCalls?: ToolCall[];
  model: string;
  promptTokens: number;
  completionTokens: number;
}

/** What a provider can do; callers decide by these, never by the provider's name. */
export interface ProviderCapabilities {
  /** Offers function tools and returns tool calls. */
  tools: boolean;
  /** Accepts images in the user message. */
  images: boolean;
  /** Answers with JSON that matches a given schema. */
  structuredOutput: boolean;
  /** A real model: worth a fallback model or a second opinion (the offline demo model is not). */
  reasoning: boolean;
}

export interface LlmProvider {
  /** The configured provider's name: openai, azure, ollama, demo, or an OpenAI-compatible endpoint's (LLM_ENDPOINTS). */
  readonly name: string;
  readonly capabilities: ProviderCapabilities;
  complete(req: ChatRequest): Promise<ChatResult>;
}

/** What kind of failure a model call had, for people: the failure card says "3 attempts (rate limited)". */
export type LlmFailureKind = 'rate_limited' | 'timed_out' | 'server_error' | 'unreachable' | 'empty_answer' | 'rejected';

/** A model call that failed. `retryable` says whether trying again may help (429, 5xx, timeouts, network);
 *  `retryAfterMs` is the wait the server asked for (Retry-After), when it named one. */
export class LlmError extends RolecallError {
  readonly kind: LlmFailureKind;
  readonly retryAfterMs?: number;
  constructor(message: string, readonly retryable: boolean, readonly status?: number, more: { kind?: LlmFailureKind; retryAfterMs?: number } = {}) {
    super(message);
    this.kind = more.kind ?? kindOfStatus(status, retryable);
    this.retryAfterMs = more.retryAfterMs;
  }
}

const kindOfStatus = (status: number | undefined, retryable: boolean): LlmFailureKind =>
  status === 429 ? 'rate_limited' : status === 408 ? 'timed_out' : status !== undefined && status >= 500 ? 'server_error' : status === undefined && retryable ? 'unreachable' : 'rejected';

/** The wait a server asked for, from `retry-after-ms` (OpenAI) or `Retry-After` (seconds or an HTTP date). */
export function retryAfterMs(headers: { get(name: string): string | null } | undefined, now = Date.now()): number | undefined {
  const ms = Number(headers?.get('retry-after-ms') ?? NaN);
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const value = headers?.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

export const isRetryableStatus = (status: number | undefined): boolean =>
  status === undefined || status === 408 || status === 409 || status === 429 || status >= 500;

/** A tool call's JSON arguments as an object ({} when the model wrote something else). */
export function parseToolArguments(json: string): Record<string, unknown> {
  try {
    const v = JSON.parse(json || '{}');
    return v && typeof v === 'object' && !Array.isArray(v) ? v : {};
  } catch {
    return {};
  }
}
