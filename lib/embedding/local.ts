/**
 * The local embedder: a sentence-transformers model run in-process by transformers.js (ONNX Runtime), with mean
 * pooling and L2 normalisation, as sentence-transformers does. No server and no network once the model folder
 * exists (scripts/fetch-models.sh puts all-MiniLM-L6-v2 in .twinflow/models).
 *
 * - A folder `<modelsDir>/<model>` (or an absolute path) is loaded offline (`local_files_only`, per call rather than
 *   through transformers.js's global `env`, which the tokenizer loader in lib/text shares). Without a folder, the
 *   name is a Hugging Face Hub id, downloaded once into `<modelsDir>/.hub-cache` when remote loading is allowed.
 * - The ONNX variant present picks the dtype: onnx/model.onnx → fp32, onnx/model_quantized.onnx → q8, ...
 * - One model instance per process: every LocalEmbedder of the same model shares it, and runs on it one batch at a
 *   time (ONNX Runtime already uses every core for one batch; interleaving batches only adds memory).
 * - Inputs longer than the model's window are truncated to it; batches are formed from texts of similar length so
 *   short texts are not padded to the longest one.
 */
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { type FeatureExtractionPipeline, mean_pooling, pipeline, type Tensor } from '@huggingface/transformers';
import { KeyedMutex } from '../vectorstore/mutex';
import type { Embedder } from './types';

export type LocalDtype = 'fp32' | 'fp16' | 'q8' | 'int8' | 'uint8' | 'q4' | 'q4f16' | 'bnb4';
export type Pooling = 'mean' | 'cls';

export interface LocalEmbedderOptions {
  /** Folder name under modelsDir, an absolute folder path, or a Hub id (e.g. Xenova/all-MiniLM-L6-v2). */
  model: string;
  modelsDir: string;
  /** Texts per forward pass (config EMBEDDING_BATCH_SIZE; default 32). */
  batchSize?: number;
  /** ONNX variant; by default the one the folder has (fp32 preferred), or fp32 from the Hub. */
  dtype?: LocalDtype;
  pooling?: Pooling;
  /** Tokens per input, at most the model's window (default: the window, e.g. 512 for MiniLM). */
  maxTokens?: number;
  /** Download from the Hub when there is no local folder (default true; tests and air-gapped sites set false). */
  allowRemote?: boolean;
  /** Text put before queries / documents, for models trained with instructions (e5: "query: ", "passage: "). */
  queryPrefix?: string;
  documentPrefix?: string;
  /**
   * ONNX Runtime intra-op threads (config EMBEDDING_THREADS). The default leaves one core free: the model runs in
   * the worker's process, and Temporal's workflow tasks and heartbeats must keep their deadlines while it computes.
   */
  threads?: number;
}

export function defaultEmbeddingThreads(): number {
  return Math.max(1, availableParallelism() - 1);
}

/** transformers.js file name of each dtype's ONNX file, in order of preference when the folder has several. */
const DTYPE_FILES: Array<[LocalDtype, string]> = [
  ['fp32', 'model.onnx'],
  ['q8', 'model_quantized.onnx'],
  ['int8', 'model_int8.onnx'],
  ['uint8', 'model_uint8.onnx'],
  ['fp16', 'model_fp16.onnx'],
  ['q4', 'model_q4.onnx'],
  ['q4f16', 'model_q4f16.onnx'],
  ['bnb4', 'model_bnb4.onnx'],
];

interface LoadedModel {
  /** source|dtype: the process-wide identity of the loaded weights. */
  key: string;
  extractor: FeatureExtractionPipeline;
  dimension: number;
  window: number;
}

/** Loaded models of this process, by source + dtype. */
const models = new Map<string, Promise<LoadedModel>>();
const inference = new KeyedMutex();

export class LocalEmbedderError extends Error {
  override name = 'LocalEmbedderError';
}

function detectDtype(folder: string): LocalDtype {
  for (const [dtype, file] of DTYPE_FILES) if (existsSync(path.join(folder, 'onnx', file))) return dtype;
  throw new LocalEmbedderError(
    `No ONNX model in ${path.join(folder, 'onnx')} (expected one of ${DTYPE_FILES.map(([, f]) => f).join(', ')}); run scripts/fetch-models.sh or export one`,
  );
}

function readJson(file: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
}

async function loadModel(source: string, local: boolean, dtype: LocalDtype, modelsDir: string, threads: number): Promise<LoadedModel> {
  const key = `${source}|${dtype}|${threads}`;
  let pending = models.get(key);
  if (!pending) {
    pending = (async () => {
      let extractor: FeatureExtractionPipeline;
      try {
        extractor = (await pipeline('feature-extraction', source, {
          dtype,
          session_options: { intraOpNumThreads: threads, interOpNumThreads: 1 },
          ...(local ? { local_files_only: true } : { cache_dir: path.join(modelsDir, '.hub-cache') }),
        })) as FeatureExtractionPipeline;
      } catch (err) {
        const where = local ? `the folder ${source}` : `the Hugging Face Hub (no folder ${path.join(modelsDir, source)} here)`;
        throw new LocalEmbedderError(`Cannot load embedding model "${source}" (${dtype}) from ${where}: ${(err as Error).message}`, { cause: err });
      }
      const config = extractor.model.config as unknown as Record<string, unknown>;
      const dimension = Number(config.hidden_size ?? config.d_model ?? config.dim);
      if (!Number.isInteger(dimension) || dimension <= 0) throw new LocalEmbedderError(`Cannot read the embedding size (hidden_size) from the config of ${source}`);
      const limits = [Number(extractor.tokenizer.model_max_length), Number(config.max_position_embeddings)].filter((n) => Number.isInteger(n) && n > 0 && n < 1e6);
      return { key, extractor, dimension, window: limits.length > 0 ? Math.min(...limits) : 512 };
    })();
    models.set(key, pending);
    pending.catch(() => models.delete(key)); // a failed load is retried by the next caller
  }
  return pending;
}

export class LocalEmbedder implements Embedder {
  readonly modelId: string;
  readonly dimension: number;
  /** Tokens per input after truncation. */
  readonly maxTokens: number;
  private constructor(
    private readonly model: LoadedModel,
    readonly dtype: LocalDtype,
    private readonly o: Required<Pick<LocalEmbedderOptions, 'batchSize' | 'pooling' | 'queryPrefix' | 'documentPrefix'>>,
    name: string,
    maxTokens: number,
    customWindow: boolean,
  ) {
    this.dimension = model.dimension;
    this.maxTokens = maxTokens;
    // Everything that changes the vectors is part of the identity (the embedding cache keys on it).
    const extras = [customWindow ? `max${maxTokens}` : '', o.queryPrefix || o.documentPrefix ? `q=${JSON.stringify(o.queryPrefix)},d=${JSON.stringify(o.documentPrefix)}` : '']
      .filter(Boolean)
      .map((x) => `:${x}`)
      .join('');
    this.modelId = `local:${name}:${dtype}:${o.pooling}${extras}`;
  }

  /** How many models this process has loaded (or is loading). */
  static loadedModelCount(): number {
    return models.size;
  }

  /** Loads the model (once per process) and returns an embedder on it. */
  static async create(options: LocalEmbedderOptions): Promise<LocalEmbedder> {
    const batchSize = options.batchSize ?? 32;
    if (!Number.isInteger(batchSize) || batchSize <= 0) throw new LocalEmbedderError(`batchSize must be a positive integer, got ${batchSize}`);
    const folder = path.isAbsolute(options.model) ? options.model : path.join(options.modelsDir, options.model);
    const local = existsSync(folder);
    if (!local && (options.allowRemote === false || path.isAbsolute(options.model))) {
      throw new LocalEmbedderError(`Embedding model folder ${folder} does not exist (run scripts/fetch-models.sh, or set EMBEDDING_MODELS_DIR)`);
    }
    const dtype = options.dtype ?? (local ? detectDtype(folder) : 'fp32');
    if (local && !existsSync(path.join(folder, 'onnx', DTYPE_FILES.find(([d]) => d === dtype)![1]))) {
      throw new LocalEmbedderError(`${folder} has no ${dtype} model (onnx/${DTYPE_FILES.find(([d]) => d === dtype)![1]}); available: ${detectDtype(folder)}`);
    }
    const model = await loadModel(local ? folder : options.model, local, dtype, options.modelsDir, options.threads ?? defaultEmbeddingThreads());
    if (options.maxTokens !== undefined && (!Number.isInteger(options.maxTokens) || options.maxTokens < 2)) {
      throw new LocalEmbedderError(`maxTokens must be an integer >= 2, got ${options.maxTokens}`);
    }
    const maxTokens = Math.min(options.maxTokens ?? model.window, model.window);
    // sentence-transformers records its own (often shorter) window; respect it when the folder has one.
    const stConfig = local ? readJson(path.join(folder, 'sentence_bert_config.json')) : {};
    const stWindow = Number(stConfig.max_seq_length);
    const effective = options.maxTokens === undefined && Number.isInteger(stWindow) && stWindow > 0 ? Math.min(stWindow, maxTokens) : maxTokens;
    const name = local ? path.basename(folder) : options.model;
    return new LocalEmbedder(
      model,
      dtype,
      { batchSize, pooling: options.pooling ?? 'mean', queryPrefix: options.queryPrefix ?? '', documentPrefix: options.documentPrefix ?? '' },
      name,
      effective,
      effective !== model.window,
    );
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
      if (typeof t !== 'string') throw new LocalEmbedderError(`embed: input ${i} is not a string`);
    });
    // Longest first, so each batch holds texts of similar length and pads little; results go back in input order.
    const order = texts.map((_, i) => i).sort((a, b) => texts[b]!.length - texts[a]!.length);
    const out = new Array<number[]>(texts.length);
    for (let i = 0; i < order.length; i += this.o.batchSize) {
      const slice = order.slice(i, i + this.o.batchSize);
      const vectors = await inference.run(this.model.key, () => this.forward(slice.map((j) => texts[j]!)));
      slice.forEach((j, k) => (out[j] = vectors[k]!));
    }
    return out;
  }

  /** One forward pass: tokenize (truncating to maxTokens), run the model, pool, normalise. */
  private async forward(batch: string[]): Promise<number[][]> {
    const { tokenizer, model } = this.model.extractor;
    const inputs = tokenizer(batch, { padding: true, truncation: true, max_length: this.maxTokens });
    const outputs = (await model(inputs)) as { last_hidden_state: Tensor };
    const hidden = outputs.last_hidden_state;
    const pooled = this.o.pooling === 'mean' ? mean_pooling(hidden, inputs.attention_mask as Tensor) : hidden.slice(null, 0);
    return pooled.normalize(2, -1).tolist() as number[][];
  }
}
