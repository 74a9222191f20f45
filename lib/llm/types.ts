/** Wire-level types of the OpenAI-compatible chat-completions API that twinflow uses (a subset). */

export type ChatRole = 'system' | 'user' | 'assistant' | 'tool';

export interface ChatMessage {
  role: ChatRole;
  content: string;
  name?: string;
}

export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; json_schema: { name: string; schema: Record<string, unknown>; strict?: boolean } };

export interface ChatOptions {
  /** Default: the client's model. */
  model?: string;
  temperature?: number;
  maxTokens?: number;
  topP?: number;
  stop?: string[];
  seed?: number;
  responseFormat?: ResponseFormat;
  /** Extra body fields passed through as they are (provider-specific options). */
  extra?: Record<string, unknown>;
  signal?: AbortSignal;
}

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

export interface ChatResult {
  content: string;
  finishReason: string | null;
  model: string;
  id?: string;
  usage: Usage;
  /** HTTP attempts this call took (1 without retries). */
  attempts: number;
}

/** One streamed piece of the answer. */
export interface ChatDelta {
  content: string;
}
