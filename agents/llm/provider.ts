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
