/** The embedder named by the configuration, and the cached embedder the feature pipeline uses. */
import type { Config } from '../config';
import type { VectorStore } from '../vectorstore/types';
import { CachedEmbedder, VectorStoreEmbeddingCache } from './cache';
import { LocalEmbedder } from './local';
import { OpenAIEmbedder, OPENAI_EMBEDDINGS_BASE_URL } from './openai';
import type { Embedder } from './types';

/**
 * EMBEDDING_PROVIDER=local: EMBEDDING_MODEL from EMBEDDING_MODELS_DIR (or the Hugging Face Hub);
 * EMBEDDING_PROVIDER=openai: EMBEDDING_MODEL at EMBEDDING_BASE_URL (default OpenAI) with EMBEDDING_API_KEY.
 * Resolves once the embedder knows its dimension (the local model is loaded; a remote one answered a probe).
 */
export async function createEmbedder(config: Config): Promise<Embedder> {
  const e = config.embedding;
  if (e.provider === 'openai') {
    const baseUrl = e.baseUrl ?? OPENAI_EMBEDDINGS_BASE_URL;
    if (!e.baseUrl && !e.apiKey) {
      throw new Error('EMBEDDING_PROVIDER=openai needs EMBEDDING_API_KEY for api.openai.com, or EMBEDDING_BASE_URL for a self-hosted server (TEI, vLLM, Ollama)');
    }
    return OpenAIEmbedder.create({ baseUrl, apiKey: e.apiKey, model: e.model, batchSize: e.batchSize });
  }
  return LocalEmbedder.create({ model: e.model, modelsDir: e.modelsDir, batchSize: e.batchSize, threads: e.threads, dtype: e.dtype, device: e.device });
}

/** The configured embedder behind the embedding cache kept in `store`. */
export async function createCachedEmbedder(config: Config, store: VectorStore): Promise<CachedEmbedder> {
  return new CachedEmbedder(await createEmbedder(config), new VectorStoreEmbeddingCache(store));
}

export {
  CachedEmbedder,
  InMemoryEmbeddingCache,
  VectorStoreEmbeddingCache,
  cacheCollectionName,
  type EmbeddingCache,
  type EmbedStats,
  type StatsEmbedder,
} from './cache';
export { LocalEmbedder, LocalEmbedderError, type LocalEmbedderOptions, type LocalDtype, type Pooling } from './local';
export { OpenAIEmbedder, EmbeddingError, embeddingsUrl, type OpenAIEmbedderOptions } from './openai';
export { cosine, dot, l2Normalize } from './vector';
export type { Embedder, Tokenizer } from './types';
