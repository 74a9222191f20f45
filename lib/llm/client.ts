/**
 * A client for any OpenAI-compatible `/chat/completions` endpoint (OpenAI, vLLM, llama.cpp, Ollama, LiteLLM...):
 *
 * - `chat()`: one completion; `stream()`: the same over Server-Sent Events, yielding text deltas;
 * - `chatJson()`: JSON mode (or `json_schema` structured output) validated by a zod schema; an answer that does not
 *   parse or validate is shown back to the model with the error and asked again, a bounded number of times;
 * - retries with exponential backoff and jitter on 408/409/429/5xx and network errors, honouring `Retry-After` and
 *   `retry-after-ms`; 4xx errors fail at once;
 * - bounded concurrency and an optional requests-per-minute pace shared by every call of the client;
 * - a tally of requests, tokens and cost per model.
 */
import { z } from 'zod';
import { policyFetch } from '../security/net-fetch';
import { findNetworkRefusal, type NetworkPolicy } from '../security/network';
import { LlmError, LlmHttpError, LlmJsonError } from './errors';
import { RequestLimiter } from './rate-limit';
import { type BackoffOptions, isRetryableStatus, retryDelayMs, sleep } from './retry';
import { readSseData } from './sse';
import { type ModelPrice, UsageTally } from './tally';
import type { ChatDelta, ChatMessage, ChatOptions, ChatResult, Usage } from './types';

export const OPENAI_BASE_URL = 'https://api.openai.com/v1';

export interface ChatClientOptions {
  /** Base URL up to and including the version, e.g. https://api.openai.com/v1 or http://127.0.0.1:8000/v1. */
  baseUrl?: string;
  apiKey?: string;
  model: string;
  /** Retries after the first attempt (default 5). */
  maxRetries?: number;
  backoff?: Partial<BackoffOptions>;
  /** Per-attempt timeout (default 120 s). */
  timeoutMs?: number;
  maxConcurrency?: number;
  requestsPerMinute?: number;
  headers?: Record<string, string>;
  prices?: Record<string, ModelPrice>;
  /** Shared tally (e.g. one per activity run across several clients). */
  tally?: UsageTally;
  /**
   * Check every connection against this network policy (a base URL that came from workflow input); without it the
   * base URL is trusted worker configuration (LLM_BASE_URL).
   */
  network?: NetworkPolicy;
  fetch?: typeof fetch;
}

export interface ChatJsonOptions extends ChatOptions {
  /** Re-asks after an invalid answer (default 2). */
  maxRepairs?: number;
  /** Send the zod schema as a `json_schema` response format instead of plain JSON mode. */
  structured?: boolean;
  /** Name of the schema in `json_schema` mode. */
  schemaName?: string;
}

export interface ChatJsonResult<T> {
  value: T;
  result: ChatResult;
  /** Model calls made, repairs included. */
  calls: number;
}

interface WireChoice {
  message?: { content?: string | null };
  delta?: { content?: string | null };
  finish_reason?: string | null;
}
interface WireResponse {
  id?: string;
  model?: string;
  choices?: WireChoice[];
  usage?: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number } | null;
}

function toUsage(u: WireResponse['usage']): Usage {
  const promptTokens = u?.prompt_tokens ?? 0;
  const completionTokens = u?.completion_tokens ?? 0;
  return { promptTokens, completionTokens, totalTokens: u?.total_tokens ?? promptTokens + completionTokens };
}

/** Strips a Markdown code fence around JSON, which some models add even in JSON mode. */
export function extractJson(text: string): string {
  const t = text.trim();
  const fence = /^```(?:json)?\s*\n([\s\S]*?)\n?```$/i.exec(t);
  return fence ? fence[1]!.trim() : t;
}

export class ChatClient {
  readonly model: string;
  readonly baseUrl: string;
  readonly tally: UsageTally;
  private readonly limiter: RequestLimiter;
  private readonly backoff: BackoffOptions;
  private readonly maxRetries: number;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: ChatClientOptions) {
    this.model = options.model;
    this.baseUrl = (options.baseUrl ?? OPENAI_BASE_URL).replace(/\/+$/, '');
    this.tally = options.tally ?? new UsageTally(options.prices);
    this.limiter = new RequestLimiter(options.maxConcurrency ?? 4, options.requestsPerMinute);
    this.backoff = { initialMs: 500, maxMs: 30_000, maxRetryAfterMs: 120_000, ...options.backoff };
    this.maxRetries = options.maxRetries ?? 5;
    this.timeoutMs = options.timeoutMs ?? 120_000;
    this.fetchImpl = options.fetch ?? (options.network ? policyFetch(options.network) : fetch);
  }

  get url(): string {
    return `${this.baseUrl}/chat/completions`;
  }

  /**
   * Fails at once, with a non-retryable LlmError, when the network policy refuses the endpoint's host (a base URL
   * from workflow input at a loopback, private or metadata address). Every connection is checked again anyway; this
   * only makes the refusal one clear error before any work. A name that does not resolve is left to the requests.
   */
  async checkNetwork(): Promise<void> {
    if (!this.options.network) return;
    try {
      await this.options.network.resolve(new URL(this.baseUrl).hostname);
    } catch (err) {
      const refused = findNetworkRefusal(err);
      if (refused) throw new LlmError(`chat completion endpoint ${this.baseUrl} refused: ${refused.message}`, false, { cause: err });
    }
  }

  private body(messages: ChatMessage[], o: ChatOptions, stream: boolean): Record<string, unknown> {
    return {
      model: o.model ?? this.model,
      messages,
      ...(o.temperature !== undefined && { temperature: o.temperature }),
      ...(o.maxTokens !== undefined && { max_tokens: o.maxTokens }),
      ...(o.topP !== undefined && { top_p: o.topP }),
      ...(o.stop !== undefined && { stop: o.stop }),
      ...(o.seed !== undefined && { seed: o.seed }),
      ...(o.responseFormat !== undefined && { response_format: o.responseFormat }),
      ...(stream && { stream: true, stream_options: { include_usage: true } }),
      ...o.extra,
    };
  }

  /**
   * POSTs with retries. Returns the successful response; throws LlmHttpError for a final HTTP failure and LlmError
   * for a final network failure. `attempt` counts HTTP attempts.
   */
  private async post(body: Record<string, unknown>, signal: AbortSignal | undefined): Promise<{ res: Response; attempts: number }> {
    for (let attempt = 1; ; attempt += 1) {
      if (attempt > 1) await this.limiter.pace(signal);
      const timeout = AbortSignal.timeout(this.timeoutMs);
      const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
      let res: Response | undefined;
      let failure: LlmError;
      try {
        res = await this.fetchImpl(this.url, {
          method: 'POST',
          headers: {
            'Content-Type': 'application/json',
            Accept: body.stream ? 'text/event-stream' : 'application/json',
            ...(this.options.apiKey && { Authorization: `Bearer ${this.options.apiKey}` }),
            ...this.options.headers,
          },
          body: JSON.stringify(body),
          signal: combined,
        });
        if (res.ok) {
          this.tally.recordAttempt(false);
          return { res, attempts: attempt };
        }
        const text = await res.text().catch(() => '');
        failure = new LlmHttpError(res.status, text, this.url, isRetryableStatus(res.status));
      } catch (err) {
        if (signal?.aborted) throw signal.reason ?? err;
        // The worker's network policy refuses the endpoint's address: the same next time, so not retried.
        const refused = findNetworkRefusal(err);
        if (refused) throw new LlmError(`chat completion request to ${this.url} refused: ${refused.message}`, false, { cause: err });
        const timedOut = timeout.aborted;
        failure = new LlmError(
          timedOut ? `chat completion timed out after ${this.timeoutMs} ms (${this.url})` : `chat completion request to ${this.url} failed: ${(err as Error).message}`,
          true,
          { cause: err },
        );
      }
      this.tally.recordAttempt(true);
      if (!failure.retryable || attempt > this.maxRetries) throw failure;
      await sleep(retryDelayMs(attempt, res?.headers, this.backoff), signal);
    }
  }

  /** One chat completion. */
  async chat(messages: ChatMessage[], o: ChatOptions = {}): Promise<ChatResult> {
    return this.limiter.run(async () => {
      const { res, attempts } = await this.post(this.body(messages, o, false), o.signal);
      let json: WireResponse;
      try {
        json = (await res.json()) as WireResponse;
      } catch (err) {
        throw new LlmError(`chat completion from ${this.url} is not JSON`, true, { cause: err });
      }
      const choice = json.choices?.[0];
      if (!choice) throw new LlmError(`chat completion from ${this.url} has no choices`, true);
      const model = json.model ?? (o.model ?? this.model);
      const usage = toUsage(json.usage);
      this.tally.record(o.model ?? this.model, usage);
      return { content: choice.message?.content ?? '', finishReason: choice.finish_reason ?? null, model, id: json.id, usage, attempts };
    }, o.signal);
  }

  /**
   * Streams a chat completion: yields text deltas as they arrive and returns the full result. Errors before the
   * first byte are retried like `chat()`; a stream that breaks halfway fails (its deltas were already delivered).
   */
  async *stream(messages: ChatMessage[], o: ChatOptions = {}): AsyncGenerator<ChatDelta, ChatResult> {
    // The concurrency slot is held for the whole stream, until the generator finishes or is abandoned.
    const release = await this.limiter.acquire(o.signal);
    try {
      const { res, attempts } = await this.post(this.body(messages, o, true), o.signal);
      if (!res.body) throw new LlmError(`chat completion stream from ${this.url} has no body`, true);
      let content = '';
      let finishReason: string | null = null;
      let model = o.model ?? this.model;
      let id: string | undefined;
      let usage: Usage | undefined;
      for await (const data of readSseData(res.body)) {
        if (data.trim() === '[DONE]') break;
        let chunk: WireResponse & { error?: { message?: string } };
        try {
          chunk = JSON.parse(data) as typeof chunk;
        } catch {
          throw new LlmError(`chat completion stream from ${this.url} sent an event that is not JSON: ${data.slice(0, 200)}`, false);
        }
        if (chunk.error) throw new LlmError(`chat completion stream error: ${chunk.error.message ?? JSON.stringify(chunk.error)}`, true);
        id ??= chunk.id;
        if (chunk.model) model = chunk.model;
        if (chunk.usage) usage = toUsage(chunk.usage);
        const choice = chunk.choices?.[0];
        if (choice?.finish_reason) finishReason = choice.finish_reason;
        const delta = choice?.delta?.content;
        if (delta) {
          content += delta;
          yield { content: delta };
        }
      }
      const finalUsage = usage ?? { promptTokens: 0, completionTokens: 0, totalTokens: 0 };
      this.tally.record(o.model ?? this.model, finalUsage);
      return { content, finishReason, model, id, usage: finalUsage, attempts };
    } finally {
      release();
    }
  }

  /** Streams and collects: calls `onDelta` for each piece and resolves with the full result. */
  async chatStreaming(messages: ChatMessage[], onDelta: (delta: string) => void, o: ChatOptions = {}): Promise<ChatResult> {
    const it = this.stream(messages, o);
    for (;;) {
      const n = await it.next();
      if (n.done) return n.value;
      onDelta(n.value.content);
    }
  }

  /**
   * Asks for JSON and validates it with `schema`. Invalid JSON or a schema mismatch is sent back to the model with
   * the problem, up to `maxRepairs` times; then LlmJsonError.
   */
  async chatJson<S extends z.ZodType>(schema: S, messages: ChatMessage[], o: ChatJsonOptions = {}): Promise<ChatJsonResult<z.output<S>>> {
    const maxRepairs = o.maxRepairs ?? 2;
    const responseFormat = o.structured
      ? {
          type: 'json_schema' as const,
          json_schema: { name: o.schemaName ?? 'response', schema: z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown> },
        }
      : { type: 'json_object' as const };
    const conversation = [...messages];
    let last: ChatResult | undefined;
    for (let call = 1; call <= maxRepairs + 1; call += 1) {
      last = await this.chat(conversation, { ...o, responseFormat: o.responseFormat ?? responseFormat });
      let problem: string;
      try {
        const parsed = schema.safeParse(JSON.parse(extractJson(last.content)));
        if (parsed.success) return { value: parsed.data, result: last, calls: call };
        problem = `it does not match the required shape: ${parsed.error.issues
          .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
          .join('; ')}`;
      } catch (err) {
        problem = `it is not valid JSON (${(err as Error).message})`;
      }
      conversation.push(
        { role: 'assistant', content: last.content },
        { role: 'user', content: `Your previous reply cannot be used: ${problem}. Reply again with only the corrected JSON.` },
      );
    }
    throw new LlmJsonError(`the model did not return valid JSON after ${maxRepairs + 1} attempts`, last?.content ?? '', maxRepairs + 1);
  }
}

export function createChatClient(options: ChatClientOptions): ChatClient {
  return new ChatClient(options);
}
