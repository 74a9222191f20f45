/**
 * A client for any OpenAI-compatible `/chat/completions` endpoint (OpenAI, vLLM, llama.cpp, Ollama, LiteLLM...),
 * over the `openai` package (lib/llm/openai-client.ts):
 *
 * - `chat()`: one completion; `stream()`: the same streamed, yielding text deltas;
 * - `chatJson()`: JSON mode (or `json_schema` structured output) validated by a zod schema; an answer that does not
 *   parse or validate is shown back to the model with the error and asked again, a bounded number of times;
 * - retries with the shared policy (lib/retry.ts: exponential backoff with jitter) on 408/409/429/5xx and network
 *   errors, honouring `Retry-After` and `retry-after-ms`; other 4xx errors fail at once;
 * - bounded concurrency and an optional requests-per-minute pace shared by every call of the client;
 * - a tally of requests, tokens and cost per model.
 */
import type OpenAI from 'openai';
import { APIError } from 'openai';
import { z } from 'zod';
import { retry, type RetryPolicy } from '../retry';
import { policyFetch } from '../security/net-fetch';
import { findNetworkRefusal, type NetworkPolicy } from '../security/network';
import { LlmError, LlmHttpError, LlmJsonError } from './errors';
import { connectionFailure, isRetryableCall, isTimeout, openAIClient, retryAfterOf, serverMessage, statusOf } from './openai-client';
import { RequestLimiter } from './rate-limit';
import { type ModelPrice, UsageTally } from './tally';
import type { ChatDelta, ChatMessage, ChatOptions, ChatResult, Usage } from './types';

/** Backoff of the chat client's retries (the shared policy's delays under the client's historical names). */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** Longest Retry-After honoured; a longer one is capped. */
  maxRetryAfterMs: number;
  random?: () => number;
}

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

/** Usage as compatible servers send it: some leave fields out, some send none. */
type WireUsage = { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number } | null | undefined;

function toUsage(u: WireUsage): Usage {
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
  private readonly policy: RetryPolicy;
  private readonly random?: () => number;
  private readonly timeoutMs: number;
  private readonly client: OpenAI;

  constructor(private readonly options: ChatClientOptions) {
    this.model = options.model;
    this.baseUrl = (options.baseUrl ?? OPENAI_BASE_URL).replace(/\/+$/, '');
    this.tally = options.tally ?? new UsageTally(options.prices);
    this.limiter = new RequestLimiter(options.maxConcurrency ?? 4, options.requestsPerMinute);
    const backoff = { initialMs: 500, maxMs: 30_000, maxRetryAfterMs: 120_000, ...options.backoff };
    this.policy = { attempts: (options.maxRetries ?? 5) + 1, baseDelayMs: backoff.initialMs, maxDelayMs: backoff.maxMs, maxRetryAfterMs: backoff.maxRetryAfterMs };
    this.random = backoff.random;
    this.timeoutMs = options.timeoutMs ?? 120_000;
    this.client = openAIClient({
      baseUrl: this.baseUrl,
      apiKey: options.apiKey,
      timeoutMs: this.timeoutMs,
      headers: options.headers,
      // A base URL from workflow input: every connection (redirects included) checked against the network policy.
      fetch: options.fetch ?? (options.network ? policyFetch(options.network) : undefined),
    });
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
   * Sends one request with retries, counting HTTP attempts in the tally. Throws LlmHttpError for a final HTTP
   * failure and LlmError for a final network failure; the caller's abort throws its reason.
   */
  private async send<T>(signal: AbortSignal | undefined, request: () => Promise<T>): Promise<{ value: T; attempts: number }> {
    let attempts = 0;
    try {
      const value = await retry(
        async (n) => {
          if (n > 1) await this.limiter.pace(signal); // a retry keeps its concurrency slot, and waits for the rate
          attempts = n;
          try {
            const v = await request();
            this.tally.recordAttempt(false);
            return v;
          } catch (err) {
            if (!signal?.aborted && !findNetworkRefusal(err)) this.tally.recordAttempt(true);
            throw err;
          }
        },
        {
          policy: this.policy,
          // A refusal by the worker's network policy is the same next time.
          shouldRetry: (o) => !o.ok && isRetryableCall(o.error) && !findNetworkRefusal(o.error),
          retryAfterMs: (o) => (o.ok ? undefined : retryAfterOf(o.error)),
          signal,
          random: this.random,
        },
      );
      return { value, attempts };
    } catch (err) {
      throw this.failure(err, signal);
    }
  }

  /** The error a failed request is reported as (error classes and retryability that callers and workflows match on). */
  private failure(err: unknown, signal: AbortSignal | undefined): unknown {
    if (signal?.aborted) return signal.reason ?? err;
    if (err instanceof LlmError) return err;
    const refused = findNetworkRefusal(err);
    if (refused) return new LlmError(`chat completion request to ${this.url} refused: ${refused.message}`, false, { cause: err });
    const status = statusOf(err);
    if (status !== undefined) return new LlmHttpError(status, serverMessage(err), this.url, isRetryableCall(err));
    if (isTimeout(err)) return new LlmError(`chat completion timed out after ${this.timeoutMs} ms (${this.url})`, true, { cause: err });
    if (isRetryableCall(err)) return new LlmError(`chat completion request to ${this.url} failed: ${connectionFailure(err)}`, true, { cause: err });
    // A 2xx answer the package could not read.
    return new LlmError(`chat completion from ${this.url} could not be read: ${(err as Error).message}`, true, { cause: err });
  }

  // Our subset of the wire format plus pass-through `extra` fields, which the package's types cannot know.
  private params<P extends OpenAI.ChatCompletionCreateParams>(messages: ChatMessage[], o: ChatOptions, stream: P['stream']): P {
    return this.body(messages, o, stream === true) as unknown as P;
  }

  /** One chat completion. */
  async chat(messages: ChatMessage[], o: ChatOptions = {}): Promise<ChatResult> {
    return this.limiter.run(async () => {
      const params = this.params<OpenAI.ChatCompletionCreateParamsNonStreaming>(messages, o, false);
      const { value: json, attempts } = await this.send(o.signal, () => this.client.chat.completions.create(params, { signal: o.signal }));
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
      const params = this.params<OpenAI.ChatCompletionCreateParamsStreaming>(messages, o, true);
      const { value: chunks, attempts } = await this.send(o.signal, () => this.client.chat.completions.create(params, { signal: o.signal }));
      let content = '';
      let finishReason: string | null = null;
      let model = o.model ?? this.model;
      let id: string | undefined;
      let usage: Usage | undefined;
      try {
        for await (const chunk of chunks) {
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
      } catch (err) {
        throw this.streamFailure(err, o.signal);
      }
      // The package ends a stream quietly when its request is aborted.
      if (o.signal?.aborted) throw o.signal.reason;
      const finalUsage = usage ?? { promptTokens: 0, completionTokens: 0, totalTokens: 0 };
      this.tally.record(o.model ?? this.model, finalUsage);
      return { content, finishReason, model, id, usage: finalUsage, attempts };
    } finally {
      release();
    }
  }

  private streamFailure(err: unknown, signal: AbortSignal | undefined): unknown {
    if (signal?.aborted) return signal.reason ?? err;
    // An event that is not JSON: the server does not speak the format, and will not next time.
    if (err instanceof SyntaxError) return new LlmError(`chat completion stream from ${this.url} sent an event that is not JSON (${err.message})`, false, { cause: err });
    if (err instanceof APIError) return new LlmError(`chat completion stream error: ${serverMessage(err)}`, true, { cause: err });
    return new LlmError(`chat completion stream from ${this.url} broke: ${connectionFailure(err)}`, true, { cause: err });
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
