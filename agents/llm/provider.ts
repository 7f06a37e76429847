// The one interface the agents use to talk to a language model.
export interface ChatRequest {
  model: string;
  temperature: number;
  system: string;
  user: string;
  /** Ask for JSON that matches this schema (structured output). */
  responseSchema?: { name: string; schema: Record<string, unknown> };
}

export interface ChatResult {
  text: string;
  model: string;
  promptTokens: number;
  completionTokens: number;
}

export interface LlmProvider {
  readonly name: 'openai' | 'ollama' | 'demo';
  complete(req: ChatRequest): Promise<ChatResult>;
}

/** A model call that failed. `retryable` says whether trying again may help (429, 5xx, timeouts, network). */
export class LlmError extends Error {
  override name = 'LlmError';
  constructor(message: string, readonly retryable: boolean, readonly status?: number) {
    super(message);
  }
}

export const isRetryableStatus = (status: number | undefined): boolean =>
  status === undefined || status === 408 || status === 409 || status === 429 || status >= 500;
