/**
 * The local embedder: a sentence-transformers model run in-process by transformers.js (ONNX Runtime), with mean
 * pooling and L2 normalisation, as sentence-transformers does. No server and no network once the model folder
 * exists (scripts/fetch-models.sh puts all-MiniLM-L6-v2 in .twinflow/models).
 *
 * - A folder `<modelsDir>/<model>` (or an absolute path) is loaded offline (`local_files_only`, per call rather than
 *   through transformers.js's global `env`, which the tokenizer loader in lib/text shares). Without a folder, the
 *   name is a Hugging Face Hub id, downloaded once into `<modelsDir>/.hub-cache` when remote loading is allowed.
 * - The ONNX variant present picks the dtype: onnx/model.onnx → fp32, onnx/model_quantized.onnx → q8, ...
 * - One model instance per process, in a worker thread of its own (model-thread.mjs): ONNX Runtime's Node binding
 *   computes on the calling thread, which in the main thread would block the event loop (and a Temporal worker's
 *   heartbeats and workflow tasks) for every batch. Every LocalEmbedder of the same model shares the thread; it runs
 *   one batch at a time with every core, queries before bulk batches (a search waits for one batch at most).
 * - Inputs longer than the model's window are truncated to it, counted (`stats.truncated`) and warned about once: the
 *   chunker sizes chunks to fit the window, so a truncation means a caller that did not; batches are formed from
 *   texts of similar length so short texts are not padded to the longest one.
 */
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { pipelineMetrics } from '../pipeline-metrics';
import { chooseDevice, probeDevice, type DeviceChoice, type EmbeddingDevice, type EmbeddingDeviceSetting } from './device';
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
   * ONNX Runtime intra-op threads (config EMBEDDING_THREADS). Default: every core. The model runs in a thread of its
   * own (model-thread.mjs), so the process's event loop (Temporal's workflow tasks, heartbeats) stays free.
   */
  threads?: number;
  /** cpu, cuda, or auto (default: the GPU when it and ONNX Runtime's CUDA provider are present; see device.ts). */
  device?: EmbeddingDeviceSetting;
}

export function defaultEmbeddingThreads(): number {
  return availableParallelism();
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
  /** source|dtype|threads|device: the process-wide identity of the loaded weights. */
  key: string;
  device: DeviceChoice;
  thread: ModelThread;
  dimension: number;
  window: number;
}

/** Loaded models of this process, by source + dtype + threads. */
const models = new Map<string, Promise<LoadedModel>>();

let warnedDevice = false;

export class LocalEmbedderError extends Error {
  override name = 'LocalEmbedderError';
}

interface ForwardResult {
  vectors: Float32Array;
  tokens: number;
  truncated: number;
  /** The model thread's own time for the batch (tokenize, forward, pool). */
  seconds: number;
}

/** What model-thread.mjs posts: 'ready' or 'failed' once, then one result or error per request. */
type ThreadMessage = { type?: 'ready' | 'failed'; id?: number; error?: string; dimension?: number; limits?: number[]; device?: EmbeddingDevice; fellBack?: string } & Partial<ForwardResult>;

/**
 * The model's worker thread (model-thread.mjs): requests in, vectors out, queries served before bulk batches. The
 * thread is unref'd, so it never keeps a process alive on its own.
 */
class ModelThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve(r: ForwardResult): void; reject(e: Error): void }>();
  private nextId = 0;
  private failure?: Error;

  constructor(
    workerData: Record<string, unknown>,
    private readonly ready: (m: { dimension: number; limits: number[]; device: EmbeddingDevice; fellBack?: string }) => void,
    private readonly failed: (e: Error) => void,
  ) {
    this.worker = new Worker(new URL('./model-thread.mjs', import.meta.url), { workerData });
    this.worker.unref();
    this.worker.on('message', (m: ThreadMessage) => {
      if (m.type === 'ready') return this.ready({ dimension: m.dimension!, limits: m.limits!, device: m.device ?? 'cpu', fellBack: m.fellBack });
      if (m.type === 'failed') return this.fail(new Error(m.error));
      const waiter = this.pending.get(m.id!);
      if (!waiter) return;
      this.pending.delete(m.id!);
      if (m.error !== undefined) waiter.reject(new LocalEmbedderError(`embedding failed: ${m.error}`));
      else waiter.resolve({ vectors: m.vectors!, tokens: m.tokens!, truncated: m.truncated!, seconds: m.seconds! });
    });
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => this.fail(new Error(`the embedding model's thread exited (code ${code})`)));
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.failed(err);
    for (const w of this.pending.values()) w.reject(new LocalEmbedderError(err.message, { cause: err }));
    this.pending.clear();
  }

  run(texts: string[], maxTokens: number, pooling: Pooling, priority: 'query' | 'bulk'): Promise<ForwardResult> {
    if (this.failure) return Promise.reject(new LocalEmbedderError(this.failure.message, { cause: this.failure }));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // While a request is in flight the thread must keep the process alive (a CLI awaiting a search).
      this.worker.ref();
      this.worker.postMessage({ id, texts, maxTokens, pooling, priority });
    }).finally(() => {
      if (this.pending.size === 0) this.worker.unref();
    }) as Promise<ForwardResult>;
  }

  async terminate(): Promise<void> {
    await this.worker.terminate();
  }
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

async function loadModel(source: string, local: boolean, dtype: LocalDtype, modelsDir: string, threads: number, device: DeviceChoice): Promise<LoadedModel> {
  const key = `${source}|${dtype}|${threads}|${device.device}`;
  let pending = models.get(key);
  if (!pending) {
    pending = new Promise<LoadedModel>((resolve, reject) => {
      const where = local ? `the folder ${source}` : `the Hugging Face Hub (no folder ${path.join(modelsDir, source)} here)`;
      let loaded = false;
      const thread: ModelThread = new ModelThread(
        { source, local, dtype, threads, device: device.device, fallback: device.fallback, cacheDir: path.join(modelsDir, '.hub-cache') },
        ({ dimension, limits, device: used, fellBack }) => {
          loaded = true;
          if (fellBack) console.warn(`twinflow: embedding on the CPU: ${fellBack}`);
          const choice: DeviceChoice = fellBack ? { device: used, reason: fellBack, fallback: false } : device;
          if (!Number.isInteger(dimension) || dimension <= 0) return reject(new LocalEmbedderError(`Cannot read the embedding size (hidden_size) from the config of ${source}`));
          const windows = limits.filter((n) => Number.isInteger(n) && n > 0 && n < 1e6);
          resolve({ key, device: choice, thread, dimension, window: windows.length > 0 ? Math.min(...windows) : 512 });
        },
        (err) => {
          models.delete(key); // a failed load, or a thread that died, is started again by the next caller
          if (!loaded) reject(new LocalEmbedderError(`Cannot load embedding model "${source}" (${dtype}, ${device.device}) from ${where}: ${err.message}`, { cause: err }));
        },
      );
    });
    models.set(key, pending);
    pending.catch(() => models.delete(key));
  }
  return pending;
}

export class LocalEmbedder implements Embedder {
  readonly modelId: string;
  readonly dimension: number;
  /** Tokens per input after truncation. */
  readonly maxTokens: number;
  /** What this embedder has sent through the model: tokens (special tokens included) and inputs cut at the window. */
  readonly stats = { tokens: 0, truncated: 0 };
  private warnedTruncation = false;
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

  /** Where the model runs, and why there. */
  get device(): EmbeddingDevice {
    return this.model.device.device;
  }

  get deviceReason(): string {
    return this.model.device.reason;
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
    const device = chooseDevice(options.device ?? 'auto', probeDevice());
    // A GPU left unused is worth one line in the worker's log; a machine without one is the ordinary case.
    if (device.device === 'cpu' && device.reason.startsWith('a GPU is present') && !warnedDevice) {
      warnedDevice = true;
      console.warn(`twinflow: embedding on the CPU: ${device.reason}`);
    }
    const model = await loadModel(local ? folder : options.model, local, dtype, options.modelsDir, options.threads ?? defaultEmbeddingThreads(), device);
    if (options.maxTokens !== undefined && (!Number.isInteger(options.maxTokens) || options.maxTokens < 2)) {
      throw new LocalEmbedderError(`maxTokens must be an integer >= 2, got ${options.maxTokens}`);
    }
    const maxTokens = Math.min(options.maxTokens ?? model.window, model.window);
    // sentence-transformers records its own (often shorter) window; respect it when the folder has one.
    const stConfig = local ? readJson(path.join(folder, 'sentence_bert_config.json')) : {};
    const stWindow = Number(stConfig.max_seq_length);
    const ownWindow = Number.isInteger(stWindow) && stWindow > 0 ? Math.min(stWindow, model.window) : model.window;
    const effective = options.maxTokens === undefined ? ownWindow : maxTokens;
    const name = local ? path.basename(folder) : options.model;
    return new LocalEmbedder(
      model,
      dtype,
      { batchSize, pooling: options.pooling ?? 'mean', queryPrefix: options.queryPrefix ?? '', documentPrefix: options.documentPrefix ?? '' },
      name,
      effective,
      effective !== ownWindow,
    );
  }

  async embed(texts: string[]): Promise<number[][]> {
    return this.embedAll(texts.map((t) => this.o.documentPrefix + t));
  }

  async embedQuery(text: string): Promise<number[]> {
    const [vector] = await this.embedAll([this.o.queryPrefix + text], 'query');
    return vector!;
  }

  private async embedAll(texts: string[], priority: 'query' | 'bulk' = 'bulk'): Promise<number[][]> {
    texts.forEach((t, i) => {
      if (typeof t !== 'string') throw new LocalEmbedderError(`embed: input ${i} is not a string`);
    });
    // Longest first, so each batch holds texts of similar length and pads little; results go back in input order.
    // Every batch is sent at once: the model's thread works through them while this thread stays free.
    const order = texts.map((_, i) => i).sort((a, b) => texts[b]!.length - texts[a]!.length);
    const out = new Array<number[]>(texts.length);
    const batches: Array<Promise<void>> = [];
    for (let i = 0; i < order.length; i += this.o.batchSize) {
      const slice = order.slice(i, i + this.o.batchSize);
      batches.push(
        this.model.thread.run(slice.map((j) => texts[j]!), this.maxTokens, this.o.pooling, priority).then((r) => {
          this.stats.tokens += r.tokens;
          pipelineMetrics.embedTokens(this.modelId, r.tokens, r.seconds);
          this.stats.truncated += r.truncated;
          if (r.truncated > 0 && !this.warnedTruncation) {
            this.warnedTruncation = true;
            console.warn(`twinflow: ${r.truncated} input(s) longer than ${this.modelId}'s window of ${this.maxTokens} tokens were truncated (counted in stats.truncated)`);
          }
          const d = this.dimension;
          slice.forEach((j, k) => (out[j] = Array.from(r.vectors.subarray(k * d, (k + 1) * d))));
        }),
      );
    }
    await Promise.all(batches);
    return out;
  }
}
