/**
 * Re-ranking: a cross-encoder reads (query, passage) pairs together and scores their relevance, which ranks better
 * than comparing two independently made vectors, at a cost per candidate; so it runs on the top candidates only.
 *
 * Two implementations of one small interface:
 * - `CrossEncoderReranker`: a local ONNX cross-encoder through transformers.js (AutoModelForSequenceClassification and
 *   its tokenizer's sentence pairs), e.g. Xenova/ms-marco-MiniLM-L-6-v2, from a local folder or a hub id;
 * - `HttpReranker`: a rerank endpoint, either Hugging Face TEI (`POST /rerank`, `{query, texts}`) or the
 *   Cohere/Jina/vLLM/Infinity shape (`POST /v1/rerank`, `{model, query, documents}` → `{results}`).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { PreTrainedModel, PreTrainedTokenizer, Tensor } from '@huggingface/transformers';
import { isRetryableStatus, retry, retryAfterFromHeaders } from '../lib/retry';

export interface Reranker {
  /** Identity (model and where it runs), for traces and reports. */
  readonly id: string;
  /** One relevance score per passage, in the passages' order; higher is more relevant. */
  score(query: string, passages: string[], signal?: AbortSignal): Promise<number[]>;
  close?(): Promise<void>;
}

/** Orders items by the re-ranker's score (stable for ties) and keeps the best `topN`. */
export async function rerankItems<T extends { text: string }>(
  reranker: Reranker,
  query: string,
  items: readonly T[],
  topN: number,
  signal?: AbortSignal,
): Promise<Array<T & { rerankScore: number }>> {
  if (items.length === 0) return [];
  const scores = await reranker.score(
    query,
    items.map((i) => i.text),
    signal,
  );
  if (scores.length !== items.length) throw new Error(`re-ranker ${reranker.id} returned ${scores.length} scores for ${items.length} passages`);
  return items
    .map((item, i) => ({ ...item, rerankScore: scores[i]!, order: i }))
    .sort((a, b) => b.rerankScore - a.rerankScore || a.order - b.order)
    .slice(0, topN)
    .map(({ order: _order, ...rest }) => rest as T & { rerankScore: number });
}

export interface CrossEncoderOptions {
  /** A local model folder (config.json, tokenizer.json, onnx/model*.onnx) or a Hugging Face hub id. */
  model: string;
  /** ONNX weights: 'q8' (onnx/model_quantized.onnx) or 'fp32' (onnx/model.onnx). Default: q8 when present. */
  dtype?: 'fp32' | 'q8' | 'fp16';
  /** Tokens per (query, passage) pair; longer pairs are truncated. Default 512. */
  maxLength?: number;
  /**
   * Pairs per forward pass (default 4). Pairs are sorted by length first, so a batch pads to similar lengths. On 2
   * cores, batches of 1-4 pairs scored 20 pairs of ~120 tokens in ~200 ms with a MiniLM-L-2-sized model, one batch
   * of 20 in ~330 ms (attention and padding grow with the batch's longest pair; docs/benchmarks.md).
   */
  batchSize?: number;
  /** ONNX Runtime intra-op threads (config RERANKER_THREADS); default: ONNX Runtime's own (one per core). */
  threads?: number;
}

export class CrossEncoderReranker implements Reranker {
  readonly id: string;
  private loaded?: Promise<{ tokenizer: PreTrainedTokenizer; model: PreTrainedModel }>;

  constructor(private readonly options: CrossEncoderOptions) {
    for (const key of ['maxLength', 'batchSize', 'threads'] as const) {
      const value = options[key];
      if (value !== undefined && (!Number.isInteger(value) || value <= 0)) throw new Error(`cross-encoder option ${key} must be a positive integer, got ${value}`);
    }
    this.id = `cross-encoder:${options.model}`;
  }

  private dtype(): 'fp32' | 'q8' | 'fp16' {
    if (this.options.dtype) return this.options.dtype;
    const local = path.isAbsolute(this.options.model) || fs.existsSync(this.options.model);
    if (!local) return 'q8';
    return fs.existsSync(path.join(this.options.model, 'onnx', 'model_quantized.onnx')) ? 'q8' : 'fp32';
  }

  /** Loads once; a failed load is retried by the next call rather than cached. */
  load(): Promise<{ tokenizer: PreTrainedTokenizer; model: PreTrainedModel }> {
    const local = fs.existsSync(this.options.model);
    const ref = local ? path.resolve(this.options.model) : this.options.model;
    const threads = this.options.threads;
    // transformers.js (and the ONNX runtime) load on first use, not when the CLI or a worker starts.
    this.loaded ??= import('@huggingface/transformers')
      .then(({ AutoTokenizer, AutoModelForSequenceClassification }) =>
        Promise.all([
          AutoTokenizer.from_pretrained(ref, { local_files_only: local }),
          AutoModelForSequenceClassification.from_pretrained(ref, {
            dtype: this.dtype(),
            local_files_only: local,
            ...(threads && { session_options: { intraOpNumThreads: threads, interOpNumThreads: 1 } }),
          }),
        ]),
      )
      .then(([tokenizer, model]) => ({ tokenizer, model }))
      .catch((err: unknown) => {
        this.loaded = undefined;
        throw new Error(`cannot load the cross-encoder ${JSON.stringify(this.options.model)}: ${(err as Error).message}`, { cause: err });
      });
    return this.loaded;
  }

  async score(query: string, passages: string[], signal?: AbortSignal): Promise<number[]> {
    const { tokenizer, model } = await this.load();
    const batchSize = this.options.batchSize ?? 4;
    // Longest first, so each batch holds passages of similar length; scores go back in the passages' order.
    const order = passages.map((_, i) => i).sort((a, b) => passages[b]!.length - passages[a]!.length);
    const out = new Array<number>(passages.length);
    for (let i = 0; i < order.length; i += batchSize) {
      signal?.throwIfAborted();
      const batch = order.slice(i, i + batchSize);
      const inputs = tokenizer(
        batch.map(() => query),
        { text_pair: batch.map((j) => passages[j]!), padding: true, truncation: true, max_length: this.options.maxLength ?? 512 },
      );
      const { logits } = (await model(inputs)) as { logits: Tensor };
      relevance(logits).forEach((score, k) => (out[batch[k]!] = score));
    }
    return out;
  }

  async close(): Promise<void> {
    const loaded = await this.loaded?.catch(() => undefined);
    this.loaded = undefined;
    await loaded?.model.dispose();
  }
}

/** One score per row: the logit of a single-label model, or the log-odds of the last ("relevant") label. */
function relevance(logits: Tensor): number[] {
  const [rows, labels] = logits.dims as [number, number];
  const data = logits.data as Float32Array;
  const scores: number[] = [];
  for (let r = 0; r < rows; r++) {
    if (labels === 1) scores.push(data[r]!);
    else scores.push(data[r * labels + labels - 1]! - data[r * labels]!);
  }
  return scores;
}

export interface HttpRerankerOptions {
  /** The endpoint, e.g. http://127.0.0.1:8080/rerank (TEI) or https://api.jina.ai/v1/rerank. */
  url: string;
  /** 'tei' or 'cohere' (Cohere, Jina, vLLM, Infinity); default: 'cohere' when the path ends in /v1/rerank. */
  api?: 'tei' | 'cohere';
  model?: string;
  apiKey?: string;
  timeoutMs?: number;
  maxRetries?: number;
  fetch?: typeof fetch;
}

interface TeiItem {
  index: number;
  score: number;
}
interface CohereResponse {
  results?: Array<{ index: number; relevance_score: number }>;
}

export class HttpReranker implements Reranker {
  readonly id: string;
  private readonly api: 'tei' | 'cohere';

  constructor(private readonly options: HttpRerankerOptions) {
    this.api = options.api ?? (/\/v\d+\/rerank\/?$/.test(new URL(options.url).pathname) ? 'cohere' : 'tei');
    this.id = `${this.api}:${options.url}${options.model ? `#${options.model}` : ''}`;
  }

  async score(query: string, passages: string[], signal?: AbortSignal): Promise<number[]> {
    if (passages.length === 0) return [];
    const body =
      this.api === 'tei'
        ? { query, texts: passages, raw_scores: false, truncate: true }
        : { query, documents: passages, top_n: passages.length, return_documents: false, ...(this.options.model && { model: this.options.model }) };
    const json = await this.post(body, signal);
    const pairs: Array<{ index: number; score: number }> =
      this.api === 'tei'
        ? (json as TeiItem[])
        : ((json as CohereResponse).results ?? []).map((r) => ({ index: r.index, score: r.relevance_score }));
    if (!Array.isArray(pairs)) throw new Error(`re-ranker ${this.options.url} answered with an unexpected shape`);
    const scores = new Array<number>(passages.length).fill(Number.NaN);
    for (const p of pairs) if (Number.isInteger(p.index) && p.index >= 0 && p.index < passages.length) scores[p.index] = p.score;
    const missing = scores.findIndex((s) => !Number.isFinite(s));
    if (missing >= 0) throw new Error(`re-ranker ${this.options.url} returned no score for passage ${missing}`);
    return scores;
  }

  private async post(body: unknown, signal?: AbortSignal): Promise<unknown> {
    const policy = { attempts: (this.options.maxRetries ?? 3) + 1, baseDelayMs: 250, maxDelayMs: 5_000, maxRetryAfterMs: 30_000 };
    return retry(
      async () => {
        const timeout = AbortSignal.timeout(this.options.timeoutMs ?? 30_000);
        let res: Response;
        try {
          res = await (this.options.fetch ?? fetch)(this.options.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...(this.options.apiKey && { authorization: `Bearer ${this.options.apiKey}` }) },
            body: JSON.stringify(body),
            signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
          });
        } catch (err) {
          // Network errors and timeouts are worth another try (the caller's own abort is not: retry() stops on it).
          throw new RerankHttpError(`re-ranker ${this.options.url}: ${(err as Error).message}`, true, undefined, { cause: err });
        }
        if (res.ok) return (await res.json()) as unknown;
        const text = await res.text().catch(() => '');
        throw new RerankHttpError(`re-ranker ${this.options.url}: HTTP ${res.status}: ${text.slice(0, 300)}`, isRetryableStatus(res.status), res.headers);
      },
      {
        policy,
        shouldRetry: (o) => !o.ok && o.error instanceof RerankHttpError && o.error.retryable,
        retryAfterMs: (o) => (!o.ok && o.error instanceof RerankHttpError ? retryAfterFromHeaders(o.error.headers) : undefined),
        signal,
      },
    );
  }
}

/** A failed call to the rerank endpoint; `retryable` says whether another attempt can help. */
class RerankHttpError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly headers?: Headers,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
