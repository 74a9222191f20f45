/**
 * The dependencies that activities are built from. Heavy ones (the embedding model, the vector store) are created
 * lazily and once per worker process, so a worker that never embeds never loads a model.
 */
import { ArtifactStore } from '../lib/artifacts';
import { type Config, loadConfig } from '../lib/config';
import type { StatsEmbedder } from '../lib/embedding';
import type { Tokenizer } from '../lib/embedding/types';
import type { VectorStore } from '../lib/vectorstore/types';

export interface Deps {
  config: Config;
  artifacts: ArtifactStore;
  vectorStore: () => Promise<VectorStore>;
  /** The configured embedder behind the shared embedding cache. */
  cachedEmbedder: () => Promise<StatsEmbedder>;
  /** The embedding model's own tokenizer (token-aware chunking). */
  tokenizer: () => Promise<Tokenizer>;
}

/** Memoises an async factory: the first call creates, later calls share the same promise. */
export function lazy<T>(factory: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => {
    value ??= factory().catch((err) => {
      value = undefined; // let a later call retry a failed initialisation
      throw err;
    });
    return value;
  };
}

// The heavy modules (ONNX runtime, LanceDB's native module) are imported on first use, not at worker start.
export function createDeps(config: Config = loadConfig(), overrides: Partial<Deps> = {}): Deps {
  const vectorStore = lazy(async () => (await import('../lib/vectorstore')).createVectorStore(config));
  return {
    config,
    artifacts: ArtifactStore.fromConfig(config),
    vectorStore,
    cachedEmbedder: lazy(async () => (await import('../lib/embedding')).createCachedEmbedder(config, await vectorStore())),
    tokenizer: lazy(async () => (await import('../lib/text')).loadTokenizer(config.embedding.model, { modelsDir: config.embedding.modelsDir })),
    ...overrides,
  };
}
