/**
 * An embedder for any OpenAI-compatible `POST /v1/embeddings` endpoint: OpenAI, Hugging Face TEI, vLLM, Ollama,
 * called through the `openai` package (lib/llm/openai-client.ts). Batches inputs, sends a bounded number of
 * requests at once, retries rate limits (429), server errors (5xx) and network failures with the shared retry
 * policy (lib/retry.ts, honouring Retry-After), puts vectors back in input order by `index`, and turns the other
 * errors into messages that say what to fix.
 */
import type OpenAI from 'openai';
import pLimit from 'p-limit';
import { connectionFailure, isRetryableCall, isTimeout, openAIClient, retryAfterOf, serverMessage, statusOf } from '../llm/openai-client';
import { retry } from '../retry';
import { l2Normalize } from './vector';
import type { Embedder } from './types';

export const OPENAI_EMBEDDINGS_BASE_URL = 'https://api.openai.com/v1';

export interface OpenAIEmbedderOptions {
  /** Server base URL, with or without the trailing /v1: https://api.openai.com/v1, http://tei:8080, ... */
  baseUrl?: string;
  apiKey?: string;
  model: string;
  /** The vector size, when known; otherwise read from the first response (`create` makes a one-input probe). */
  dimension?: number;
  /** Inputs per request (default 64; OpenAI takes up to 2048, TEI's default max is 32). */
  batchSize?: number;
  /** Requests in flight at once (default 4). */
  concurrency?: number;
  /** Retries after the first attempt (default 6). */
  maxRetries?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Longest Retry-After honoured (default 60 s); longer ones are capped. */
  maxRetryAfterMs?: number;
  /** Per-request timeout (default 60 s); a timeout is retried like a network failure. */
  timeoutMs?: number;
  /** Text put before each query / document, for models trained with instructions (e5: "query: ", "passage: "). */
  queryPrefix?: string;
  documentPrefix?: string;
}

/** An embedding call that failed; `retryable` says whether trying again later can help (for the caller's retry policy). */
export class EmbeddingError extends Error {
  override name = 'EmbeddingError';
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function embeddingsUrl(baseUrl: string): string {
  const base = baseUrl.replace(/\/+$/, '');
  return /\/v\d+$/.test(base) ? `${base}/embeddings` : `${base}/v1/embeddings`;
}

export class OpenAIEmbedder implements Embedder {
  readonly modelId: string;
  readonly url: string;
  private knownDimension?: number;
  private readonly o: Required<Omit<OpenAIEmbedderOptions, 'apiKey' | 'dimension' | 'baseUrl'>> & { apiKey?: string };
  private readonly limit: ReturnType<typeof pLimit>;
  private readonly client: OpenAI;

  constructor(options: OpenAIEmbedderOptions) {
    if (!options.model) throw new Error('OpenAIEmbedder needs a model name (EMBEDDING_MODEL)');
    this.url = embeddingsUrl(options.baseUrl ?? OPENAI_EMBEDDINGS_BASE_URL);
    this.o = {
      model: options.model,
      apiKey: options.apiKey,
      batchSize: options.batchSize ?? 64,
      concurrency: options.concurrency ?? 4,
      maxRetries: options.maxRetries ?? 6,
      initialBackoffMs: options.initialBackoffMs ?? 500,
      maxBackoffMs: options.maxBackoffMs ?? 20_000,
      maxRetryAfterMs: options.maxRetryAfterMs ?? 60_000,
      timeoutMs: options.timeoutMs ?? 60_000,
      queryPrefix: options.queryPrefix ?? '',
      documentPrefix: options.documentPrefix ?? '',
    };
    for (const key of ['batchSize', 'concurrency'] as const) {
      if (!Number.isInteger(this.o[key]) || this.o[key] <= 0) throw new Error(`OpenAIEmbedder: ${key} must be a positive integer, got ${this.o[key]}`);
    }
    this.knownDimension = options.dimension;
    this.limit = pLimit(this.o.concurrency);
    this.client = openAIClient({ baseUrl: this.url.replace(/\/embeddings$/, ''), apiKey: this.o.apiKey, timeoutMs: this.o.timeoutMs });
    const prefixes = this.o.queryPrefix || this.o.documentPrefix ? `:q=${JSON.stringify(this.o.queryPrefix)}:d=${JSON.stringify(this.o.documentPrefix)}` : '';
    this.modelId = `openai:${this.o.model}${prefixes}`;
  }

  /** Builds the embedder and, when the dimension was not given, learns it from one short request. */
  static async create(options: OpenAIEmbedderOptions): Promise<OpenAIEmbedder> {
    const embedder = new OpenAIEmbedder(options);
    if (embedder.knownDimension === undefined) await embedder.embedQuery('dimension probe');
    return embedder;
  }

  get dimension(): number {
    if (this.knownDimension === undefined) throw new Error(`The dimension of ${this.modelId} is not known yet: create the embedder with OpenAIEmbedder.create, or pass dimension`);
    return this.knownDimension;
  }

  async embed(texts: string[]): Promise<number[][]> {
    return this.embedAll(texts.map((t) => this.o.documentPrefix + t));
  }

  async embedQuery(text: string): Promise<number[]> {
    const [vector] = await this.embedAll([this.o.queryPrefix + text]);
    return vector!;
  }

  private async embedAll(texts: string[]): Promise<number[][]> {
    texts.forEach((t, i) => {
      if (typeof t !== 'string') throw new EmbeddingError(`embed: input ${i} is not a string`, false);
    });
    const batches: string[][] = [];
    for (let i = 0; i < texts.length; i += this.o.batchSize) batches.push(texts.slice(i, i + this.o.batchSize));
    const results = await Promise.all(batches.map((batch) => this.limit(() => this.embedBatch(batch))));
    return results.flat();
  }

  private async embedBatch(input: string[]): Promise<number[][]> {
    const response = await this.post(input);
    // Checked item by item below: compatible servers do not all keep to the OpenAI types.
    const data = response?.data as Array<{ index?: unknown; embedding?: unknown }> | undefined;
    if (!Array.isArray(data) || data.length !== input.length) {
      throw new EmbeddingError(`${this.url} answered ${Array.isArray(data) ? data.length : 'no'} embeddings for ${input.length} inputs (model ${this.o.model})`, false);
    }
    const vectors = new Array<number[] | undefined>(input.length);
    for (const item of data) {
      const index = item.index;
      if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= input.length || vectors[index]) {
        throw new EmbeddingError(`${this.url} answered an embedding with a missing, repeated or out-of-range index ${JSON.stringify(index)}`, false);
      }
      const v = item.embedding;
      if (!Array.isArray(v) || v.length === 0 || v.some((x) => typeof x !== 'number' || !Number.isFinite(x))) {
        throw new EmbeddingError(`${this.url} answered embedding ${index} that is not a list of numbers (is encoding_format "float" supported?)`, false);
      }
      this.checkDimension(v.length);
      vectors[index] = l2Normalize(v as number[]);
    }
    return vectors as number[][];
  }

  private checkDimension(length: number): void {
    if (this.knownDimension === undefined) this.knownDimension = length;
    else if (length !== this.knownDimension) {
      throw new EmbeddingError(`${this.modelId} answered a ${length}-dimensional embedding, expected ${this.knownDimension}`, false);
    }
  }

  /** One embeddings request with retries. */
  private async post(input: string[]): Promise<OpenAI.CreateEmbeddingResponse> {
    const policy = { attempts: this.o.maxRetries + 1, baseDelayMs: this.o.initialBackoffMs, maxDelayMs: this.o.maxBackoffMs, maxRetryAfterMs: this.o.maxRetryAfterMs };
    let attempts = 0;
    try {
      return await retry(
        () => {
          attempts += 1;
          // encoding_format "float" explicitly: without it the package asks for base64, which not every server speaks.
          return this.client.embeddings.create({ model: this.o.model, input, encoding_format: 'float' });
        },
        { policy, shouldRetry: (o) => !o.ok && isRetryableCall(o.error), retryAfterMs: (o) => (o.ok ? undefined : retryAfterOf(o.error)) },
      );
    } catch (err) {
      const status = statusOf(err);
      if (status !== undefined && !isRetryableCall(err)) throw this.httpError(status, serverMessage(err));
      if (!isRetryableCall(err)) {
        // A 2xx answer the package could not read, or a bug: not worth another attempt.
        throw new EmbeddingError(`${this.url} answered with a body that could not be read: ${(err as Error).message}`, false, undefined, { cause: err });
      }
      const last =
        status !== undefined ? `HTTP ${status}: ${serverMessage(err)}` : isTimeout(err) ? `no answer within ${this.o.timeoutMs} ms` : connectionFailure(err);
      throw new EmbeddingError(`Embedding request to ${this.url} failed after ${attempts} attempts; last error: ${last}`, true, undefined, { cause: err });
    }
  }

  private httpError(status: number, message: string): EmbeddingError {
    const where = `${this.url} (model ${this.o.model})`;
    if (status === 401) {
      const hint = this.o.apiKey ? 'the API key was rejected; check EMBEDDING_API_KEY' : 'no API key was sent; set EMBEDDING_API_KEY';
      return new EmbeddingError(`Embedding API at ${where} answered 401 Unauthorized: ${hint}. Server said: ${message}`, false, status);
    }
    if (status === 403) return new EmbeddingError(`Embedding API at ${where} answered 403 Forbidden (the key lacks access to this model?): ${message}`, false, status);
    if (status === 404) return new EmbeddingError(`Embedding API at ${where} answered 404: check EMBEDDING_BASE_URL and EMBEDDING_MODEL. Server said: ${message}`, false, status);
    return new EmbeddingError(`Embedding request rejected by ${where} with HTTP ${status}: ${message}`, false, status);
  }
}
